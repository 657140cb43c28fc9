"""A meeting: its participants, nested agenda, attendance and live session state."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.accounts import User
from server.models.base import (
    AttendanceStatus,
    Base,
    MeetingRole,
    MeetingStatus,
    QuorumRule,
    SessionState,
    SpeakerStatus,
    str_enum,
    utcnow,
)


class Meeting(Base):
    __tablename__ = "meeting"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(String(300))  # the council, committee or board
    place: Mapped[str] = mapped_column(String(300), default="")
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime | None]
    description: Mapped[str] = mapped_column(Text, default="")
    # Reference number printed on the minutes, e.g. "12/BB-HĐND".
    reference: Mapped[str] = mapped_column(String(100), default="")
    status: Mapped[MeetingStatus] = mapped_column(
        str_enum(MeetingStatus), default=MeetingStatus.DRAFT, index=True
    )
    quorum_rule: Mapped[QuorumRule] = mapped_column(
        str_enum(QuorumRule), default=QuorumRule.MAJORITY
    )
    # Maximum proxies one present delegate may hold.
    proxy_limit: Mapped[int] = mapped_column(default=1)
    default_speaking_seconds: Mapped[int] = mapped_column(default=180)

    # Live session state; every change bumps the revision (see MeetingEvent).
    revision: Mapped[int] = mapped_column(default=0)
    session_state: Mapped[SessionState] = mapped_column(
        str_enum(SessionState), default=SessionState.NOT_STARTED
    )
    current_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("agenda_item.id", use_alter=True, ondelete="SET NULL")
    )
    # The document and page on the projector, followed by tablets.
    presented_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("document_version.id", use_alter=True, ondelete="SET NULL")
    )
    presented_page: Mapped[int | None]
    session_opened_at: Mapped[datetime | None]
    session_closed_at: Mapped[datetime | None]
    # The QR code at the door: tablets check in by scanning it (sha256 only).
    door_token_sha256: Mapped[str | None] = mapped_column(String(64))

    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None]
    sealed_at: Mapped[datetime | None]

    participants: Mapped[list["Participant"]] = relationship(
        back_populates="meeting", cascade="all, delete-orphan", order_by="Participant.id"
    )
    agenda_items: Mapped[list["AgendaItem"]] = relationship(
        back_populates="meeting",
        cascade="all, delete-orphan",
        foreign_keys="AgendaItem.meeting_id",
        order_by="AgendaItem.position",
    )

    @property
    def is_editable(self) -> bool:
        """Preparation is possible until the minutes seal the meeting."""
        return self.status != MeetingStatus.SEALED


class Participant(Base):
    """A person in one meeting, with their role, voting right and weight.

    Imported participants need not have an account: a delegate can take part
    only through a paired tablet.
    """

    __tablename__ = "participant"
    __table_args__ = (UniqueConstraint("meeting_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    full_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    position: Mapped[str] = mapped_column(String(200), default="")  # title or unit
    role: Mapped[MeetingRole] = mapped_column(str_enum(MeetingRole), default=MeetingRole.DELEGATE)
    voting_right: Mapped[bool] = mapped_column(default=True)
    weight: Mapped[Decimal] = mapped_column(Numeric(12, 4), default=Decimal(1))
    seat: Mapped[str] = mapped_column(String(20), default="")
    # The present delegate who votes for this one while absent.
    proxy_holder_id: Mapped[int | None] = mapped_column(
        ForeignKey("participant.id", ondelete="SET NULL")
    )

    attendance: Mapped[AttendanceStatus] = mapped_column(
        str_enum(AttendanceStatus), default=AttendanceStatus.ABSENT
    )
    attendance_method: Mapped[str | None] = mapped_column(String(20))  # door_qr, manual, tablet
    checked_in_at: Mapped[datetime | None]
    excuse: Mapped[str] = mapped_column(String(500), default="")

    meeting: Mapped[Meeting] = relationship(back_populates="participants")
    user: Mapped[User | None] = relationship()
    proxy_holder: Mapped["Participant | None"] = relationship(remote_side=[id])

    @property
    def is_staff(self) -> bool:
        return self.role in (MeetingRole.CHAIR, MeetingRole.SECRETARY)


class AgendaItem(Base):
    """One point of the agenda; items nest under a parent.

    ``position`` orders siblings; the displayed number ("2.1") is derived.
    """

    __tablename__ = "agenda_item"
    __table_args__ = (Index("ix_agenda_item_parent_position", "meeting_id", "parent_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("agenda_item.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(default=0)
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="")
    presenter: Mapped[str] = mapped_column(String(200), default="")
    presenter_participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participant.id", ondelete="SET NULL")
    )
    planned_minutes: Mapped[int | None]
    # Timer: started_at while running; elapsed_seconds accumulates across pauses.
    started_at: Mapped[datetime | None]
    elapsed_seconds: Mapped[int] = mapped_column(default=0)
    timer_running_since: Mapped[datetime | None]
    done_at: Mapped[datetime | None]
    decision: Mapped[str] = mapped_column(Text, default="")

    meeting: Mapped[Meeting] = relationship(back_populates="agenda_items", foreign_keys=[meeting_id])
    parent: Mapped["AgendaItem | None"] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list["AgendaItem"]] = relationship(
        back_populates="parent", order_by="AgendaItem.position", cascade="all, delete-orphan"
    )


class SpeakerRequest(Base):
    """A request for the floor; once granted, the speech it records (who, item, start, end)."""

    __tablename__ = "speaker_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), index=True)
    agenda_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("agenda_item.id", ondelete="SET NULL")
    )
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id", ondelete="CASCADE"))
    status: Mapped[SpeakerStatus] = mapped_column(
        str_enum(SpeakerStatus), default=SpeakerStatus.WAITING
    )
    queue_position: Mapped[int] = mapped_column(default=0)
    time_limit_seconds: Mapped[int | None]
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]

    participant: Mapped[Participant] = relationship()


class MeetingEvent(Base):
    """The meeting's event log: one row per revision, for reconnect replay."""

    __tablename__ = "meeting_event"
    __table_args__ = (UniqueConstraint("meeting_id", "revision"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"))
    revision: Mapped[int]
    type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict]
    # Who may receive it: "all", "staff", or "participant:<id>".
    audience: Mapped[str] = mapped_column(String(40), default="all")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
