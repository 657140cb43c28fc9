"""Minutes of a meeting and the signatures on their PDF."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import Base, MeetingRole, MinutesStatus, str_enum, utcnow


class Minutes(Base):
    __tablename__ = "minutes"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meeting.id", ondelete="CASCADE"), unique=True
    )
    status: Mapped[MinutesStatus] = mapped_column(
        str_enum(MinutesStatus), default=MinutesStatus.DRAFT
    )
    language: Mapped[str] = mapped_column(String(8), default="vi")
    # Structured sections drafted from the record, then edited.
    sections: Mapped[dict] = mapped_column(default=dict)
    free_text: Mapped[str] = mapped_column(Text, default="")
    audit_head: Mapped[str | None] = mapped_column(String(64))
    # The rendered PDF, then each signed revision of it.
    pdf_sha256: Mapped[str | None] = mapped_column(ForeignKey("blob.sha256"))
    drafted_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    finalised_at: Mapped[datetime | None]

    signatures: Mapped[list["Signature"]] = relationship(order_by="Signature.signed_at")


class Signature(Base):
    __tablename__ = "signature"

    id: Mapped[int] = mapped_column(primary_key=True)
    minutes_id: Mapped[int] = mapped_column(ForeignKey("minutes.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    role: Mapped[MeetingRole] = mapped_column(str_enum(MeetingRole))
    certificate_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_certificate.id", ondelete="SET NULL")
    )
    signer_name: Mapped[str] = mapped_column(String(200))
    certificate_fingerprint: Mapped[str] = mapped_column(String(64))
    # The PDF after this signature was appended.
    pdf_sha256: Mapped[str] = mapped_column(ForeignKey("blob.sha256"))
    signed_at: Mapped[datetime] = mapped_column(default=utcnow)
    detail: Mapped[str] = mapped_column(Text, default="")
