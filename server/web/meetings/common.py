"""The preparation pages' blueprint, and the form and local-time helpers they share.

Pages are plain forms that post back (they work without JavaScript); the ES
modules in ``static/js/prep/`` only add comfort. Every form is validated with
the same pydantic models as the REST API and handled by the same services.
Other page modules (documents, minutes, control, archive) use ``local`` from here.
"""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, request
from flask_babel import gettext as _
from pydantic import BaseModel, ValidationError

from server.errors import HemicycleError
from server.models import MeetingStatus, QuorumRule
from server.schemas.meetings import friendly_message

bp = Blueprint("meetings", __name__, url_prefix="/meetings")

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"
MEETING_FIELDS = ("title", "body", "place", "starts_at", "ends_at", "description", "reference",
                  "quorum_rule", "proxy_limit")


def display_zone() -> ZoneInfo:
    """The meeting room's time zone: forms and pages show local time."""
    return ZoneInfo(current_app.config.get("TIMEZONE", "Asia/Ho_Chi_Minh"))


def local(value: datetime | None, fmt: str = "%d/%m/%Y %H:%M") -> str:
    return value.astimezone(display_zone()).strftime(fmt) if value else ""


@bp.context_processor
def _helpers():
    return {"local": local, "DATETIME_LOCAL": DATETIME_LOCAL, "MeetingStatus": MeetingStatus,
            "QuorumRule": QuorumRule}


class FormError(Exception):
    """A form that did not validate: the fields and messages to show next to them."""

    def __init__(self, fields: dict[str, str]):
        super().__init__("invalid form")
        self.fields = fields


def parse_form(model: type[BaseModel], values: dict, datetimes: tuple[str, ...] = ()) -> BaseModel:
    """Validate form values with an API model; empty inputs count as "not given" (None)."""
    data: dict = {}
    errors: dict[str, str] = {}
    for name, value in values.items():
        value = value.strip() if isinstance(value, str) else value
        if value == "" or value is None:
            data[name] = None
        elif name in datetimes:
            try:
                naive = datetime.strptime(value, DATETIME_LOCAL)
            except ValueError:
                errors[name] = _("Enter a date and time.")
                continue
            data[name] = naive.replace(tzinfo=display_zone())
        else:
            data[name] = value
    if errors:
        raise FormError(errors)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        fields = form_messages(exc)
        if "body" in fields and "body" not in model.model_fields:
            fields["form"] = fields.pop("body")  # a rule about several fields
        raise FormError(fields) from None


def form_messages(exc: ValidationError) -> dict[str, str]:
    """Pydantic's errors in the user's language, one per field (the API keeps pydantic's)."""
    fields: dict[str, str] = {}
    for error in exc.errors(include_url=False):
        name = ".".join(str(part) for part in error["loc"]) or "body"
        fields.setdefault(name, friendly_message(error))
    return fields


def form_errors(exc: Exception) -> dict[str, str]:
    """Field messages of a form or service error; the message itself under "form"."""
    if isinstance(exc, FormError):
        return exc.fields
    assert isinstance(exc, HemicycleError)
    return {**exc.fields, "form": exc.message}


def meeting_form_values(meeting=None) -> dict:
    if meeting is None:
        return {"quorum_rule": QuorumRule.MAJORITY.value, "proxy_limit": "1"}
    return {
        "title": meeting.title, "body": meeting.body, "place": meeting.place,
        "starts_at": local(meeting.starts_at, DATETIME_LOCAL),
        "ends_at": local(meeting.ends_at, DATETIME_LOCAL), "description": meeting.description,
        "reference": meeting.reference, "quorum_rule": meeting.quorum_rule.value,
        "proxy_limit": str(meeting.proxy_limit),
    }


def submitted(names: tuple[str, ...]) -> dict:
    return {name: request.form.get(name, "") for name in names}
