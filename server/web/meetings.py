"""Secretary's preparation pages: meeting list, new meeting, overview with edit and publish.

The agenda and participants pages add their views to this blueprint from
``meeting_agenda`` and ``meeting_participants``. Pages are plain forms that
post back here (they work without JavaScript); the ES modules in
``static/js/prep/`` only add comfort. Every form is validated with the same
pydantic models as the REST API and handled by the same services.
"""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from pydantic import BaseModel, ValidationError

from server.auth import current_actor
from server.errors import HemicycleError, InvalidInput
from server.extensions import db
from server.models import MeetingStatus, QuorumRule, Role
from server.schemas.meetings import MeetingCreate, MeetingUpdate, friendly_message
from server.services import meetings
from server.services.access import Permission, get_meeting, permissions, require_account_role

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


def _submitted(names: tuple[str, ...]) -> dict:
    return {name: request.form.get(name, "") for name in names}


@bp.get("/")
@login_required
def index():
    actor = current_actor()
    status = request.args.get("status")
    chosen = MeetingStatus(status) if status in {s.value for s in MeetingStatus} else None
    found = meetings.list_meetings(actor, chosen)
    can_create = actor.user is not None and actor.user.role in (Role.ADMIN, Role.SECRETARY)
    preparable = {m.id for m in found if Permission.PREPARE in permissions(actor, m)}
    return render_template("meetings/index.html", meetings=found, status=chosen,
                           can_create=can_create, preparable=preparable)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    actor = current_actor()
    if request.method == "GET":
        require_account_role(actor, Role.ADMIN, Role.SECRETARY)
        return render_template("meetings/new.html", values=meeting_form_values(), errors={})
    values = _submitted(MEETING_FIELDS)
    try:
        data = parse_form(MeetingCreate, values, ("starts_at", "ends_at"))
        meeting = meetings.create_meeting(actor, data)
        db.session.commit()
    except (FormError, InvalidInput) as exc:
        db.session.rollback()
        return render_template("meetings/new.html", values=values, errors=form_errors(exc)), 422
    flash(_("The meeting was created. Now build its agenda."), "success")
    return redirect(url_for("meetings.agenda", meeting_id=meeting.id))


def render_overview(meeting, values=None, errors=None, status=200):
    problems = meetings.publish_problems(meeting) if meeting.status == MeetingStatus.DRAFT else {}
    return render_template("meetings/overview.html", meeting=meeting, tab="overview",
                           values=values or meeting_form_values(meeting), errors=errors or {},
                           problems=problems), status


@bp.get("/<int:meeting_id>")
@login_required
def overview(meeting_id: int):
    return render_overview(get_meeting(meeting_id, current_actor(), Permission.PREPARE))


@bp.post("/<int:meeting_id>")
@login_required
def update(meeting_id: int):
    actor = current_actor()
    meeting = get_meeting(meeting_id, actor, Permission.PREPARE)
    values = _submitted(MEETING_FIELDS)
    try:
        # Every field is sent: empty optional ones are cleared, empty required ones refused.
        data = parse_form(MeetingUpdate, values, ("starts_at", "ends_at"))
        meetings.update_meeting(meeting_id, actor, data)
        db.session.commit()
    except (FormError, InvalidInput) as exc:
        db.session.rollback()
        return render_overview(get_meeting(meeting_id, actor, Permission.PREPARE), values,
                               form_errors(exc), 422)
    flash(_("The meeting was saved."), "success")
    return redirect(url_for("meetings.overview", meeting_id=meeting.id))


@bp.post("/<int:meeting_id>/publish")
@login_required
def publish(meeting_id: int):
    actor = current_actor()
    try:
        meetings.publish_meeting(meeting_id, actor)
        db.session.commit()
    except InvalidInput as exc:
        db.session.rollback()
        meeting = get_meeting(meeting_id, actor, Permission.PREPARE)
        flash(_("The meeting cannot be published yet: see the list below."), "error")
        return render_overview(meeting, errors=form_errors(exc), status=422)
    flash(_("The meeting is published: participants can now see it."), "success")
    return redirect(url_for("meetings.overview", meeting_id=meeting_id))


@bp.post("/<int:meeting_id>/delete")
@login_required
def delete(meeting_id: int):
    meetings.delete_meeting(meeting_id, current_actor())
    db.session.commit()
    flash(_("The draft meeting was deleted."), "success")
    return redirect(url_for("meetings.index"))


from server.web import meeting_agenda, meeting_participants  # noqa: E402,F401  (views on bp)
