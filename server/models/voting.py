"""Polls, their options, ballots and, kept apart, the record of who voted."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import (
    Base,
    MajorityBase,
    MajorityRule,
    PollKind,
    PollOptionKind,
    PollStatus,
    new_uuid,
    str_enum,
    utcnow,
)


class Poll(Base):
    __tablename__ = "poll"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), index=True)
    agenda_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("agenda_item.id", ondelete="SET NULL")
    )
    motion: Mapped[str] = mapped_column(Text)
    kind: Mapped[PollKind] = mapped_column(str_enum(PollKind), default=PollKind.NAMED)
    option_kind: Mapped[PollOptionKind] = mapped_column(
        str_enum(PollOptionKind), default=PollOptionKind.YES_NO_ABSTAIN
    )
    min_choices: Mapped[int] = mapped_column(default=1)
    max_choices: Mapped[int] = mapped_column(default=1)
    majority: Mapped[MajorityRule] = mapped_column(
        str_enum(MajorityRule), default=MajorityRule.SIMPLE
    )
    majority_base: Mapped[MajorityBase] = mapped_column(
        str_enum(MajorityBase), default=MajorityBase.CAST
    )
    abstentions_count: Mapped[bool] = mapped_column(default=False)
    quorum_required: Mapped[bool] = mapped_column(default=True)
    allow_change: Mapped[bool] = mapped_column(default=False)
    duration_seconds: Mapped[int | None]
    status: Mapped[PollStatus] = mapped_column(str_enum(PollStatus), default=PollStatus.DRAFT)
    revote_of_id: Mapped[int | None] = mapped_column(ForeignKey("poll.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    opened_at: Mapped[datetime | None]
    closes_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None]
    # Figures fixed at opening and at closing (members, present, weights).
    snapshot: Mapped[dict | None]
    result: Mapped[dict | None]
    decision: Mapped[str] = mapped_column(Text, default="")

    options: Mapped[list["PollOption"]] = relationship(
        order_by="PollOption.position", cascade="all, delete-orphan"
    )


class PollOption(Base):
    __tablename__ = "poll_option"

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    key: Mapped[str] = mapped_column(String(40))  # "yes", "no", "abstain", "c1", ...
    label: Mapped[str] = mapped_column(String(300))


class Ballot(Base):
    """A counted ballot.

    For a named poll it carries the participant whose vote it is. A secret
    poll's ballots appear here only at closing, opened from their
    ``SealedBallot`` and written all at once in random order: ``participant_id``
    NULL, a random id, no timestamp (see docs/VOTING.md).
    """

    __tablename__ = "ballot"
    __table_args__ = {"sqlite_with_rowid": False}

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id", ondelete="CASCADE"), index=True)
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participant.id", ondelete="SET NULL")
    )
    choices: Mapped[list]  # option keys
    weight: Mapped[Decimal] = mapped_column(Numeric(12, 4), default=Decimal(1))
    receipt: Mapped[str | None] = mapped_column(String(64), unique=True)  # secret polls
    cast_at: Mapped[datetime | None]  # named polls only


class VoterRecord(Base):
    """Who has voted (and for whom, with a proxy): kept apart from the ballots.

    ``client_ballot_id_sha256`` makes casting idempotent; for secret polls the
    receipt is kept only encrypted under a key derived from the client's ballot
    id, which the database never holds in clear.
    """

    __tablename__ = "voter_record"
    __table_args__ = (UniqueConstraint("poll_id", "represented_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id", ondelete="CASCADE"), index=True)
    voter_id: Mapped[int] = mapped_column(ForeignKey("participant.id", ondelete="CASCADE"))
    # The participant whose vote this is: the voter, or the absent delegate they hold a proxy for.
    represented_id: Mapped[int] = mapped_column(ForeignKey("participant.id", ondelete="CASCADE"))
    # Unique and set here: it also matches RETURNING rows to records, so a batch of
    # ballots is one INSERT.
    client_ballot_id_sha256: Mapped[str] = mapped_column(String(64), unique=True,
                                                         insert_sentinel=True)
    sealed_answer: Mapped[str | None] = mapped_column(Text)
    # Ballot ids replaced by a changed vote (named polls with allow_change), so a
    # late retry of an old ballot cannot undo the change.
    superseded_sha256: Mapped[list] = mapped_column(default=list)
    voted_at: Mapped[datetime] = mapped_column(default=utcnow)


class SealedBallot(Base):
    """A secret ballot while its poll is open: choices, weight and receipt encrypted.

    ``box`` is AES-GCM under a key derived from the server's secret and the
    poll's ``BallotKey``; neither is readable from the database alone, so the
    order of these rows (which follows the order of voting) says nothing about
    what anyone chose. Opened into ``Ballot`` rows and erased at closing;
    erased at cancelling.
    """

    __tablename__ = "sealed_ballot"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id", ondelete="CASCADE"), index=True)
    box: Mapped[str] = mapped_column(Text)


class BallotKey(Base):
    """The random salt of an open secret poll's ballot key; deleted at closing and cancelling,
    so sealed ballots left behind in free pages, a journal or a backup cannot be opened
    even by someone who later learns the server's secret."""

    __tablename__ = "ballot_key"

    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id", ondelete="CASCADE"),
                                         primary_key=True, autoincrement=False)
    salt: Mapped[str] = mapped_column(String(64))
