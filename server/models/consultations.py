"""Written consultations between sessions (xin ý kiến): a question put to members in writing."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, ForeignKey, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import Base, MajorityBase, MajorityRule, str_enum, utcnow


class Consultation(Base):
    """One question put to named members until a deadline, decided by a poll's majority rule."""

    __tablename__ = "consultation"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text, default="")
    question: Mapped[str] = mapped_column(Text)
    majority: Mapped[MajorityRule] = mapped_column(str_enum(MajorityRule),
                                                   default=MajorityRule.ABSOLUTE)
    base: Mapped[MajorityBase] = mapped_column(str_enum(MajorityBase), default=MajorityBase.MEMBERS)
    abstentions_count: Mapped[bool] = mapped_column(default=True)
    allow_change: Mapped[bool] = mapped_column(default=True)
    opens_at: Mapped[datetime] = mapped_column(default=utcnow)
    closes_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    # The tally frozen at closing (tally.decide_motion's figures); None while open.
    result: Mapped[dict | None] = mapped_column(JSON)
    # The report of the result, issued at closing (its PDF in the blob store), who sealed
    # it, and why it is unsigned if it could not be signed (no seal, a TSA that is down).
    report_sha256: Mapped[str | None] = mapped_column(String(64))
    report_signed_by: Mapped[str | None] = mapped_column(String(500))
    report_problem: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    members: Mapped[list["ConsultationMember"]] = relationship(cascade="all, delete-orphan")
    answers: Mapped[list["ConsultationAnswer"]] = relationship(cascade="all, delete-orphan")


class ConsultationMember(Base):
    """An account asked for its opinion, with the weight its answer carries."""

    __tablename__ = "consultation_member"

    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultation.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    weight: Mapped[Decimal] = mapped_column(Numeric(12, 4), default=Decimal(1))


class ConsultationAnswer(Base):
    """A member's answer (yes / no / abstain) with an optional comment; one per member."""

    __tablename__ = "consultation_answer"

    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultation.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    choice: Mapped[str] = mapped_column(String(10))
    comment: Mapped[str] = mapped_column(Text, default="")
    answered_at: Mapped[datetime] = mapped_column(default=utcnow)
