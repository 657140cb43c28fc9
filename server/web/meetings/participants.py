"""The participants page: table, add (by name or from the directory), edit, remove, CSV import."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select

from server.auth import current_actor
from server.errors import Conflict, InvalidInput, NotFound
from server.extensions import db
from server.models import MeetingRole, Participant, User
from server.schemas.meetings import ParticipantCreate, ParticipantUpdate
from server.services.meetings import participant_import, participants
from server.services.access import Permission, get_meeting
from server.web.meetings.common import FormError, bp, form_errors, parse_form

PERSON_FIELDS = ("full_name", "email", "position", "role", "weight", "seat")
DIRECTORY_LIMIT = 500


def _values(names: tuple[str, ...]) -> dict:
    values = {name: request.form.get(name, "") for name in names}
    values["voting_right"] = "voting_right" in request.form
    return values


def directory(meeting) -> list[User]:
    """Active accounts not yet in the meeting, for the "from the directory" choice."""
    taken = select(Participant.user_id).where(Participant.meeting_id == meeting.id,
                                              Participant.user_id.is_not(None))
    return list(db.session.scalars(select(User).where(User.active, User.id.not_in(taken))
                                   .order_by(User.full_name).limit(DIRECTORY_LIMIT)))


def render_participants(meeting, errors=None, values=None, problems=None, status=200):
    people = participants.participants_of(meeting)
    return render_template(
        "meetings/participants.html", meeting=meeting, tab="participants", people=people,
        names={p.id: p.full_name for p in people}, users=directory(meeting),
        roles=list(MeetingRole), errors=errors or {}, values=values or {"voting_right": True},
        problems=problems or [], max_rows=participant_import.MAX_ROWS), status


@bp.get("/<int:meeting_id>/participants")
@login_required
def participants_page(meeting_id: int):
    return render_participants(get_meeting(meeting_id, current_actor(), Permission.PREPARE))


@bp.post("/<int:meeting_id>/participants")
@login_required
def add_participant(meeting_id: int):
    actor = current_actor()
    meeting = get_meeting(meeting_id, actor, Permission.PREPARE)
    values = _values(PERSON_FIELDS + ("user_id",))
    try:
        participant = participants.add_participant(meeting_id, actor,
                                                   parse_form(ParticipantCreate, values))
        db.session.commit()
    except (FormError, InvalidInput, Conflict) as exc:
        db.session.rollback()
        return render_participants(meeting, form_errors(exc), values, status=422)
    flash(_("%(name)s was added.", name=participant.full_name), "success")
    return redirect(url_for("meetings.participants_page", meeting_id=meeting_id))


@bp.post("/<int:meeting_id>/participants/import")
@login_required
def import_participants(meeting_id: int):
    actor = current_actor()
    meeting = get_meeting(meeting_id, actor, Permission.PREPARE)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return render_participants(meeting, {"file": _("Choose a CSV file.")}, status=422)
    try:
        created = participant_import.import_csv(
            meeting_id, actor, upload.read(participant_import.MAX_BYTES + 1))
        db.session.commit()
    except participant_import.CsvRejected as rejected:
        db.session.rollback()
        return render_participants(meeting, {"file": rejected.message},
                                   problems=rejected.problems, status=422)
    flash(_("%(count)d participants were imported.", count=len(created)), "success")
    return redirect(url_for("meetings.participants_page", meeting_id=meeting_id))


def render_edit(meeting, person, errors=None, values=None, status=200):
    holders = [p for p in participants.participants_of(meeting)
               if p.id != person.id and p.voting_right and p.proxy_holder_id is None]
    if values is None:
        values = {name: getattr(person, name) or "" for name in PERSON_FIELDS}
        values.update(role=person.role.value, weight=f"{person.weight.normalize():f}",
                      voting_right=person.voting_right,
                      proxy_holder_id=person.proxy_holder_id or "")
    return render_template("meetings/participant_edit.html", meeting=meeting, tab="participants",
                           person=person, holders=holders, roles=list(MeetingRole),
                           errors=errors or {}, values=values), status


def _person(meeting, participant_id: int) -> Participant:
    person = db.session.get(Participant, participant_id)
    if person is None or person.meeting_id != meeting.id:
        raise NotFound(_("No such participant in this meeting."))
    return person


@bp.route("/<int:meeting_id>/participants/<int:participant_id>", methods=["GET", "POST"])
@login_required
def edit_participant(meeting_id: int, participant_id: int):
    actor = current_actor()
    meeting = get_meeting(meeting_id, actor, Permission.PREPARE)
    person = _person(meeting, participant_id)
    if request.method == "GET":
        return render_edit(meeting, person)
    values = _values(PERSON_FIELDS + ("proxy_holder_id",))
    try:
        data = parse_form(ParticipantUpdate, values)
        participants.update_participant(meeting_id, participant_id, actor, data)
        db.session.commit()
    except (FormError, InvalidInput, Conflict) as exc:
        db.session.rollback()
        return render_edit(meeting, _person(meeting, participant_id), form_errors(exc), values, 422)
    flash(_("%(name)s was saved.", name=person.full_name), "success")
    return redirect(url_for("meetings.participants_page", meeting_id=meeting_id))


@bp.post("/<int:meeting_id>/participants/<int:participant_id>/delete")
@login_required
def remove_participant(meeting_id: int, participant_id: int):
    participants.remove_participant(meeting_id, participant_id, current_actor())
    db.session.commit()
    flash(_("The participant was removed."), "success")
    return redirect(url_for("meetings.participants_page", meeting_id=meeting_id))
