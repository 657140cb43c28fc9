"""Written consultations: what the API and the tablet send."""
from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from server.models import MajorityBase, MajorityRule
from server.schemas.types import Id, When, text


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class MemberIn(Input):
    user_id: Id
    weight: Annotated[Decimal, Field(gt=0, le=1_000_000, decimal_places=4)] = Decimal(1)


class ConsultationIn(Input):
    """Put a question to members in writing."""

    title: text(500, 1)
    body: text(20_000) = ""
    question: text(4000, 1)
    members: Annotated[list[MemberIn], Field(min_length=1, max_length=5000)]
    majority: MajorityRule = MajorityRule.ABSOLUTE
    base: MajorityBase = MajorityBase.MEMBERS
    abstentions_count: bool = True
    allow_change: bool = True
    opens_at: When | None = None
    closes_at: When


class AnswerIn(Input):
    choice: Literal["yes", "no", "abstain"]
    comment: text(4000) = ""


class ExtendIn(Input):
    closes_at: When


class ReminderOut(BaseModel):
    """Who was reminded (socket message) and what became of their emails (account ids)."""

    reminded: list[int]
    email_enabled: bool = Field(description="false when no SMTP server is configured")
    emailed: list[int]
    email_failed: list[int] = Field(description="an email that did not go (server down, "
                                    "refused address); the socket reminder still went")
    without_email: list[int] = Field(description="reminded, but the account has no address")
    email_error: str | None = Field(description="the first email failure, in words")
