"""Draft texts with stable line numbers, and the amendments tabled to them in the session."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, str_enum, utcnow


class AmendmentStatus(str, enum.Enum):
    TABLED = "tabled"  # waiting for the chair
    ADMITTED = "admitted"  # in the control room's queue
    NOT_ADMITTED = "not_admitted"  # refused by the chair, with a reason
    WITHDRAWN = "withdrawn"  # taken back by its mover before the vote


class DraftText(Base):
    """A draft entered as text on an agenda item.

    ``lines`` is the text as entered, one entry a line; line *n* is ``lines[n - 1]``
    for ever: adopting amendments never renumbers it, the adopted text is assembled
    beside it. ``final_poll_id`` is the vote on the draft as a whole.
    """

    __tablename__ = "draft_text"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), index=True)
    agenda_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("agenda_item.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(500))
    lines: Mapped[list]
    final_poll_id: Mapped[int | None] = mapped_column(ForeignKey("poll.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))


class Amendment(Base):
    """An amendment to lines ``line_from..line_to`` of a draft text: the text it replaces
    (as it stood when tabled), the new text and the reasons; voted by ``poll_id``."""

    __tablename__ = "amendment"
    __table_args__ = (UniqueConstraint("draft_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("draft_text.id", ondelete="CASCADE"), index=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]  # 1, 2, ... in the order tabled on the draft
    tabled_by_id: Mapped[int] = mapped_column(ForeignKey("participant.id", ondelete="CASCADE"))
    cosigners: Mapped[list] = mapped_column(default=list)  # participant ids tabling with the mover
    line_from: Mapped[int]
    line_to: Mapped[int]
    old_text: Mapped[str] = mapped_column(Text, default="")
    new_text: Mapped[str] = mapped_column(Text, default="")
    reasons: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[AmendmentStatus] = mapped_column(
        str_enum(AmendmentStatus), default=AmendmentStatus.TABLED)
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int | None]  # order in the voting queue, once admitted
    poll_id: Mapped[int | None] = mapped_column(ForeignKey("poll.id", ondelete="SET NULL"))
    tabled_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
