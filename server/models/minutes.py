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


class SigningSession(Base):
    """A signature made where the key is: the server prepares the minutes' next revision,
    the signer's agent (a USB token) signs its signed attributes and returns the value.

    Bound to one signer (user and role), the revision of the minutes it was opened on and a
    short expiry; the one-time code is kept only as its SHA-256.
    """

    __tablename__ = "signing_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    minutes_id: Mapped[int] = mapped_column(ForeignKey("minutes.id", ondelete="CASCADE"),
                                            index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    role: Mapped[MeetingRole] = mapped_column(str_enum(MeetingRole))
    # The PDF (finalised, or with the signatures so far) the session signs on top of.
    base_pdf_sha256: Mapped[str] = mapped_column(String(64))
    # open -> prepared (certificate given, digest handed out) -> signed | refused
    state: Mapped[str] = mapped_column(String(16), default="open")
    expires_at: Mapped[datetime]
    certificate_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_certificate.id", ondelete="SET NULL"))
    chain_pem: Mapped[str] = mapped_column(Text, default="")
    # The prepared revision (signature placeholder reserved) and what must be signed.
    prepared_pdf_sha256: Mapped[str | None] = mapped_column(ForeignKey("blob.sha256"))
    reserved_start: Mapped[int | None]
    reserved_end: Mapped[int | None]
    signed_attributes: Mapped[str] = mapped_column(Text, default="")  # base64 DER
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]

    minutes: Mapped[Minutes] = relationship()
    user: Mapped["User"] = relationship()  # noqa: F821
    certificate: Mapped["UserCertificate | None"] = relationship()  # noqa: F821
