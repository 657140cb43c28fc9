"""Drafts open for comment: the comment period on a document version, and delegates' comments."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import (
    Base, CommentKind, CommentResponse, CommentPeriodAudience, str_enum, utcnow,
)


class CommentPeriod(Base):
    """One document version opened for comments until a deadline, for an audience."""

    __tablename__ = "comment_period"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), index=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("document_version.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(500))
    audience: Mapped[CommentPeriodAudience] = mapped_column(
        str_enum(CommentPeriodAudience), default=CommentPeriodAudience.DELEGATES
    )
    deadline: Mapped[datetime]
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    members: Mapped[list["CommentPeriodMember"]] = relationship(cascade="all, delete-orphan")


class CommentPeriodMember(Base):
    """A participant named on a comment period with ``audience = named``."""

    __tablename__ = "comment_period_member"

    comment_period_id: Mapped[int] = mapped_column(
        ForeignKey("comment_period.id", ondelete="CASCADE"), primary_key=True
    )
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participant.id", ondelete="CASCADE"), primary_key=True
    )


class DraftComment(Base):
    """A delegate's comment (góp ý), anchored to a page, a region of it and the text there."""

    __tablename__ = "draft_comment"

    # Chosen by the client, so a tablet's offline queue can be replayed without duplicates.
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    comment_period_id: Mapped[int] = mapped_column(
        ForeignKey("comment_period.id", ondelete="CASCADE"), index=True
    )
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participant.id", ondelete="CASCADE"), index=True
    )
    page_number: Mapped[int]
    # [x0, y0, x1, y1] in 0..1 of the page's width and height; the whole page when absent.
    region: Mapped[list | None]
    quote: Mapped[str] = mapped_column(Text, default="")  # the page's text in the region
    kind: Mapped[CommentKind] = mapped_column(str_enum(CommentKind))
    text: Mapped[str] = mapped_column(Text, default="")
    published: Mapped[bool] = mapped_column(default=False)
    # A duplicate merged into another comment is answered by that comment's response.
    merged_into_id: Mapped[str | None] = mapped_column(
        ForeignKey("draft_comment.id", ondelete="SET NULL")
    )
    response: Mapped[CommentResponse | None] = mapped_column(str_enum(CommentResponse))
    response_text: Mapped[str] = mapped_column(Text, default="")
    responded_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
