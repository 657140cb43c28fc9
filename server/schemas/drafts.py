"""Drafts open for comment: what the API, the pages and the tablet send."""
from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from server.models import CommentKind, CommentResponse, CommentPeriodAudience
from server.schemas.documents import ParticipantIds
from server.schemas.types import Id, When, text

Unit = Annotated[float, Field(ge=0.0, le=1.0)]
CommentText = text(4000)


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CommentPeriodIn(Input):
    """Open a document version for comments."""

    version_number: Annotated[int, Field(ge=1, le=100_000)] | None = None  # default: current
    title: text(500) | None = None  # default: the document's title
    deadline: When
    audience: CommentPeriodAudience = CommentPeriodAudience.DELEGATES
    members: ParticipantIds = []  # with audience "named"

    @model_validator(mode="after")
    def _members(self):
        if self.audience == CommentPeriodAudience.NAMED and not self.members:
            raise ValueError("name at least one participant for a named audience")
        return self


class CommentPeriodUpdate(Input):
    """Move the deadline (to now: close the comment_period)."""

    deadline: When


class CommentIn(Input):
    """A comment on one page: a region of it ([x0, y0, x1, y1] in 0..1), or the whole page."""

    comment_period_id: Id
    page_number: Annotated[int, Field(ge=1, le=100_000)]
    region: tuple[Unit, Unit, Unit, Unit] | None = None
    kind: CommentKind
    text: CommentText = ""

    @model_validator(mode="after")
    def _shape(self):
        if self.region is not None:
            x0, y0, x1, y1 = self.region
            if not (x0 < x1 and y0 < y1):
                raise ValueError("the region must have x0 < x1 and y0 < y1")
        if self.kind in (CommentKind.EDITORIAL, CommentKind.SUBSTANTIVE) and not self.text:
            raise ValueError("an editorial or substantive comment needs its text")
        return self


class PublishIn(Input):
    published: bool


class MergeIn(Input):
    """Merge the comment into another (a duplicate); ``null`` separates it again."""

    into: Annotated[str, Field(min_length=36, max_length=36, pattern=r"^[0-9a-f-]{36}$")] | None


class ResponseIn(Input):
    response: CommentResponse
    text: CommentText = ""

    @model_validator(mode="after")
    def _explained(self):
        if self.response != CommentResponse.ACCEPTED and not self.text:
            raise ValueError("say why: an explanation or a refusal needs its text")
        return self
