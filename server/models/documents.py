"""Meeting documents: content-addressed blobs, versions, pages and who may read them."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import Base, DocumentAccess, str_enum, utcnow


class Blob(Base):
    """A stored file, named by its sha256 in the data directory: stored once."""

    __tablename__ = "blob"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Document(Base):
    __tablename__ = "document"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), index=True)
    agenda_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("agenda_item.id", ondelete="SET NULL"), index=True
    )
    title: Mapped[str] = mapped_column(String(500))
    access: Mapped[DocumentAccess] = mapped_column(
        str_enum(DocumentAccess), default=DocumentAccess.ALL
    )
    # Confidential: delegates get watermarked page images only, never the PDF.
    confidential: Mapped[bool] = mapped_column(default=False)
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    versions: Mapped[list["DocumentVersion"]] = relationship(
        back_populates="document", order_by="DocumentVersion.number", cascade="all, delete-orphan"
    )
    readers: Mapped[list["DocumentReader"]] = relationship(cascade="all, delete-orphan")

    @property
    def current_version(self) -> "DocumentVersion | None":
        return self.versions[-1] if self.versions else None


class DocumentReader(Base):
    """A participant named on a document with ``access = named``."""

    __tablename__ = "document_reader"

    document_id: Mapped[int] = mapped_column(
        ForeignKey("document.id", ondelete="CASCADE"), primary_key=True
    )
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participant.id", ondelete="CASCADE"), primary_key=True
    )


class DocumentVersion(Base):
    __tablename__ = "document_version"
    __table_args__ = (UniqueConstraint("document_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(default=1)
    blob_sha256: Mapped[str] = mapped_column(ForeignKey("blob.sha256"))
    filename: Mapped[str] = mapped_column(String(255))
    # The uploaded original when it was converted (e.g. DOCX to PDF).
    source_blob_sha256: Mapped[str | None] = mapped_column(ForeignKey("blob.sha256"))
    page_count: Mapped[int]
    pages_rendered: Mapped[int] = mapped_column(default=0)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)

    document: Mapped[Document] = relationship(back_populates="versions")
    blob: Mapped[Blob] = relationship(foreign_keys=[blob_sha256])
    pages: Mapped[list["DocumentPage"]] = relationship(
        order_by="DocumentPage.number", cascade="all, delete-orphan"
    )


class DocumentPage(Base):
    __tablename__ = "document_page"
    __table_args__ = (UniqueConstraint("version_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("document_version.id", ondelete="CASCADE"))
    number: Mapped[int]  # 1-based
    width_pt: Mapped[float]
    height_pt: Mapped[float]
    # Hash of the page's content, so annotations carry over to a new version
    # on pages that did not change.
    content_sha256: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text, default="")
    # Where ``text`` came from: None, the file's own text layer; else the OCR of a page
    # without one: "pending", "done", "empty" (nothing recognised), "failed" or "skipped"
    # (OCR off or over its page limit). See docs/DOCUMENTS.md, "Scanned pages".
    ocr: Mapped[str | None] = mapped_column(String(16))
