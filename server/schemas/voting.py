"""Polls and ballots: what the API and the socket handlers accept and answer.

Inputs forbid unknown fields; a poll update applies only the fields sent.
Results are plain JSON (weights as decimal strings), described loosely here:
their shape is documented in docs/VOTING.md.
"""
from __future__ import annotations

import uuid
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from server.models import MajorityBase, MajorityRule, PollKind, PollOptionKind
from server.schemas.meetings import Input
from server.schemas.realtime import Command
from server.schemas.types import Id

MAX_CANDIDATES = 100
MAX_DURATION = 24 * 3600

Motion = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]
Candidate = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
OptionKey = Annotated[str, StringConstraints(min_length=1, max_length=40)]
Decision = Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)]


def _random_uuid(value: uuid.UUID) -> uuid.UUID:
    # The receipt's seal is keyed by this id: a guessable (time-based) one would weaken it.
    if value.version != 4:
        raise ValueError("must be a random (version 4) UUID")
    return value


BallotId = Annotated[uuid.UUID, AfterValidator(_random_uuid)]


class PollFields(Input):
    agenda_item_id: Id | None = None
    kind: PollKind | None = None
    option_kind: PollOptionKind | None = None
    candidates: list[Candidate] | None = Field(default=None, max_length=MAX_CANDIDATES)
    min_choices: int | None = Field(default=None, ge=0, le=MAX_CANDIDATES)
    max_choices: int | None = Field(default=None, ge=1, le=MAX_CANDIDATES)
    majority: MajorityRule | None = None
    majority_base: MajorityBase | None = None
    abstentions_count: bool | None = None
    quorum_required: bool | None = None
    allow_change: bool | None = None
    duration_seconds: int | None = Field(default=None, ge=10, le=MAX_DURATION)

    def service_fields(self) -> dict:
        """The rule fields the client sent (``null`` clears agenda item and duration)."""
        sent = self.model_fields_set - {"candidates"}
        nullable = {"agenda_item_id", "duration_seconds"}
        return {k: getattr(self, k) for k in sent if getattr(self, k) is not None or k in nullable}


class PollCreate(PollFields):
    motion: Motion


class PollUpdate(PollFields):
    motion: Motion | None = None


class PublishIn(Input):
    decision: Decision | None = None


class BallotIn(Input):
    ballot_id: BallotId = Field(description="Chosen by the client; resend it to retry safely.")
    choices: list[OptionKey] = Field(max_length=MAX_CANDIDATES)
    on_behalf_of: Id | None = Field(default=None,
                                     description="The absent delegate whose proxy you hold.")


class Output(BaseModel):
    model_config = ConfigDict(extra="allow")


class OptionOut(BaseModel):
    key: str
    label: str


class PollOut(BaseModel):
    id: int
    meeting_id: int
    agenda_item_id: int | None
    motion: str
    kind: PollKind
    option_kind: PollOptionKind
    options: list[OptionOut]
    min_choices: int
    max_choices: int
    majority: MajorityRule
    majority_base: MajorityBase
    abstentions_count: bool
    quorum_required: bool
    allow_change: bool
    duration_seconds: int | None
    status: str
    revote_of_id: int | None
    opened_at: str | None
    closes_at: str | None
    closed_at: str | None
    published_at: str | None
    decision: str


class BallotOut(BaseModel):
    poll_id: int
    ballot_id: str
    voter_id: int
    represented_id: int
    on_behalf_of: int | None
    choices: list[str]
    receipt: str | None = Field(description="Secret polls: find it in the published tally.")
    status: str


class VotingStatusOut(Output):
    poll_id: int
    status: str
    can_vote: bool
    ballots: list[dict[str, Any]]


class ProgressOut(Output):
    poll_id: int
    status: str
    cast: int
    cast_weight: str
    members: int
    members_weight: str
    present: int
    not_voted_count: int | None = None  # named polls
    not_voted: list[dict[str, Any]] | None = None  # named polls (events: when 50 or fewer)


class ResultOut(Output):
    """The stored result: totals, base, threshold, outcome, quorum and the ballot list."""

    outcome: str
    ballots: int
    totals: dict[str, Any]
    ballot_list: list[dict[str, Any]]
    # sha256 of the sorted ballot list's lines, committed in the audit chain at closing
    # (docs/VOTING.md, "The commitment at closing"); absent for polls closed before it existed.
    ballot_digest: str | None = None


# --- socket commands (server/realtime/voting.py) --------------------------------------------


class PollCommand(Command):
    poll_id: int = Field(ge=1, le=2**31 - 1)


class PollPublishCommand(PollCommand):
    decision: Decision | None = None


class BallotCommand(PollCommand):
    ballot_id: BallotId
    choices: list[OptionKey] = Field(max_length=MAX_CANDIDATES)
    on_behalf_of: int | None = Field(default=None, ge=1, le=2**31 - 1)
