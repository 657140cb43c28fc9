"""Meeting preparation: what the API, the pages and the services accept and answer.

Input models forbid unknown fields (a misspelt field is an error, not a silent
no-op) and strip surrounding whitespace. Update models have every field
optional; services apply only the fields the client actually sent
(``model_fields_set``), so ``null`` can clear a value.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from flask_babel import gettext as _
from pydantic import (
    BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, field_serializer,
    field_validator, model_validator,
)

from server.models import MeetingRole, MeetingStatus, QuorumRule
from server.schemas.types import Id, When, text

MAX_AGENDA_DEPTH = 3  # "2.1.3" at most: deeper agendas are unreadable on a tablet
MAX_PLANNED_MINUTES = 24 * 60
MAX_WEIGHT = Decimal(1000)
MAX_PROXY_LIMIT = 10


def friendly_message(error: dict) -> str:
    """One pydantic error in the user's language, for pages and CSV reports."""
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "missing" or error.get("input", "") is None or (
            kind == "string_too_short" and ctx.get("min_length") == 1):
        return _("This field is required.")
    if kind == "string_too_long":
        return _("At most %(n)d characters.", n=ctx.get("max_length", 0))
    if kind in ("int_parsing", "int_from_float", "decimal_parsing", "float_parsing",
                "decimal_max_places", "decimal_max_digits"):
        return _("Enter a number.")
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        return _("The number is out of range.")
    if kind in ("enum", "literal_error"):
        return _("Choose one of the options.")
    if kind == "string_pattern_mismatch":
        return _("This value is not valid.")
    return error["msg"]


Title = text(300, 1)
Weight = Annotated[Decimal, Field(gt=0, le=MAX_WEIGHT, max_digits=12, decimal_places=4)]
Email = Annotated[str, StringConstraints(strip_whitespace=True, max_length=254,
                                         pattern=r"^$|^[^@\s]+@[^@\s]+\.[^@\s]+$")]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# --- meetings -------------------------------------------------------------------------------


class MeetingFields(Input):
    title: Title | None = None
    body: Title | None = None
    place: text(300) | None = None
    starts_at: When | None = None
    ends_at: When | None = None
    description: text(10_000) | None = None
    reference: text(100) | None = None
    quorum_rule: QuorumRule | None = None
    proxy_limit: int | None = Field(default=None, ge=0, le=MAX_PROXY_LIMIT)

    @field_validator("ends_at")
    @classmethod
    def _ends_after_start(cls, ends_at: datetime | None, info: ValidationInfo):
        starts_at = info.data.get("starts_at")
        if starts_at and ends_at and ends_at <= starts_at:
            raise ValueError("ends_at must be after starts_at")
        return ends_at


class MeetingCreate(MeetingFields):
    """A new meeting; it starts as a draft only its preparers can see."""

    title: Title
    body: Title
    starts_at: When


class MeetingUpdate(MeetingFields):
    """Changes to a meeting; fields left out stay as they are."""


class MeetingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    body: str
    place: str
    starts_at: datetime
    ends_at: datetime | None
    description: str
    reference: str
    status: MeetingStatus
    quorum_rule: QuorumRule
    proxy_limit: int
    revision: int
    published_at: datetime | None
    created_at: datetime
    updated_at: datetime


class MeetingListQuery(Input):
    status: MeetingStatus | None = None


# --- agenda ---------------------------------------------------------------------------------


class AgendaItemFields(Input):
    title: text(500, 1) | None = None
    description: text(10_000) | None = None
    presenter: text(200) | None = None
    presenter_participant_id: Id | None = None
    planned_minutes: int | None = Field(default=None, ge=0, le=MAX_PLANNED_MINUTES)


class AgendaItemCreate(AgendaItemFields):
    """A new agenda item, appended under ``parent_id`` (top level when null)."""

    title: text(500, 1)
    parent_id: Id | None = None
    position: int | None = Field(default=None, ge=0, le=10_000)


class AgendaItemUpdate(AgendaItemFields):
    """Changes to an agenda item; fields left out stay as they are."""


class AgendaMove(Input):
    """Where to put an item: under ``parent_id`` (null: top level) at 0-based ``position``."""

    parent_id: Id | None = None
    position: int = Field(ge=0, le=10_000)


class AgendaNode(Input):
    """One item of a full ordering: its id and its children, in order."""

    id: Id
    children: list["AgendaNode"] = Field(default=[], max_length=1000)


class AgendaOrder(Input):
    """The whole agenda in its new order; every item exactly once."""

    items: list[AgendaNode] = Field(max_length=1000)


class AgendaItemOut(BaseModel):
    id: int
    parent_id: int | None
    position: int
    number: str  # "2.1", derived from the positions
    depth: int  # 1 for top-level items
    title: str
    description: str
    presenter: str
    presenter_participant_id: int | None
    presenter_name: str  # the participant's name, else the free-text presenter
    planned_minutes: int | None
    children: list["AgendaItemOut"] = []


class AgendaOut(BaseModel):
    meeting_id: int
    revision: int
    total_minutes: int
    items: list[AgendaItemOut]


# --- participants ---------------------------------------------------------------------------


class ParticipantFields(Input):
    full_name: text(200, 1) | None = None
    email: Email | None = None
    position: text(200) | None = None
    role: MeetingRole | None = None
    voting_right: bool | None = None
    weight: Weight | None = None
    seat: text(20) | None = None
    proxy_holder_id: Id | None = None


class ParticipantCreate(ParticipantFields):
    """A participant from the directory (``user_id``) or by name (``full_name``)."""

    user_id: Id | None = None
    role: MeetingRole = MeetingRole.DELEGATE

    @model_validator(mode="after")
    def _someone(self):
        if self.user_id is None and not self.full_name:
            raise ValueError("give user_id or full_name")
        return self


class ParticipantUpdate(ParticipantFields):
    """Changes to a participant; fields left out stay as they are."""


class ParticipantOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    user_id: int | None
    username: str | None = None
    full_name: str
    email: str | None
    position: str
    role: MeetingRole
    voting_right: bool
    weight: Decimal
    seat: str
    proxy_holder_id: int | None

    @field_serializer("weight")
    def _weight_number(self, weight: Decimal) -> float:
        return float(weight)


class ImportProblem(BaseModel):
    line: int  # 1 is the header
    column: str | None
    message: str


class ImportResult(BaseModel):
    imported: int
    participants: list[ParticipantOut]


class PublishProblemsOut(BaseModel):
    ready: bool
    problems: dict[str, str]
