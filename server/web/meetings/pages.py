"""Secretary's preparation pages: meeting list, new meeting, overview with edit and publish."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from server.auth import current_actor
from server.errors import InvalidInput
from server.extensions import db
from server.models import MeetingStatus, Role
from server.schemas.meetings import MeetingCreate, MeetingUpdate
from server.services.access import Permission, get_meeting, permissions, require_account_role
from server.services.meetings import meetings
from server.web.meetings.common import (
    MEETING_FIELDS, FormError, bp, form_errors, meeting_form_values, parse_form, submitted,
)


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
    values = submitted(MEETING_FIELDS)
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
    values = submitted(MEETING_FIELDS)
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

