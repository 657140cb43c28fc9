"""Draft texts and amendments: what the API and the pages send."""
from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from server.schemas.documents import ParticipantIds
from server.schemas.drafts import Input
from server.schemas.types import Id, text
from server.schemas.voting import PollFields

MAX_LINES = 5000
LineNumber = Annotated[int, Field(ge=1, le=MAX_LINES)]


class DraftTextIn(Input):
    """A draft entered as text: one line a line, numbered 1, 2, ... for good."""

    agenda_item_id: Id | None = None
    title: text(500, min_length=1)
    text: text(200_000, min_length=1)

    @model_validator(mode="after")
    def _not_too_long(self):
        if len(self.text.splitlines()) > MAX_LINES:
            raise ValueError(f"a draft text has at most {MAX_LINES} lines")
        return self


class AmendmentIn(Input):
    """Table an amendment to lines ``line_from..line_to``: their new text and the reasons.
    An empty ``new_text`` deletes the lines."""

    line_from: LineNumber
    line_to: LineNumber
    new_text: text(20_000)
    reasons: text(10_000, min_length=1)
    cosigners: ParticipantIds = []

    @model_validator(mode="after")
    def _range(self):
        if self.line_to < self.line_from:
            raise ValueError("line_to must not come before line_from")
        return self


class AdmitIn(Input):
    """The chair's decision on a tabled amendment; a refusal says why."""

    admitted: bool
    reason: text(5000) = ""

    @model_validator(mode="after")
    def _reason(self):
        if not self.admitted and not self.reason:
            raise ValueError("say why the amendment is not admitted")
        return self


class QueueIn(Input):
    """The admitted amendments of a draft in the order they are put to the vote."""

    amendments: list[Id] = Field(max_length=1000)


class VoteIn(PollFields):
    """The rules of the poll that decides (any poll kind and majority rule; yes/no/abstain)."""

    open_now: bool = True  # open the poll at once; false leaves a draft poll to open later
