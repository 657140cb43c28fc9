"""The agenda editor page: add, edit, delete, and move items up, down, in and out.

Moves are expressed as directions on the page and translated here into the
same ``move_item(parent_id, position)`` the REST API offers.
"""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from server.auth import current_actor
from server.errors import InvalidInput, NotFound
from server.extensions import db
from server.schemas.meetings import (
    MAX_AGENDA_DEPTH, AgendaItemCreate, AgendaItemOut, AgendaItemUpdate, AgendaMove,
)
from server.services.meetings import agenda as agenda_service
from server.services.access import Permission, get_meeting
from server.services.meetings.participants import participants_of
from server.web.meetings.common import FormError, bp, form_errors, parse_form

ITEM_FIELDS = ("title", "description", "presenter", "presenter_participant_id", "planned_minutes")
DIRECTIONS = ("up", "down", "indent", "outdent")


def render_agenda(meeting, errors=None, values=None, editing=None, status=200):
    tree = agenda_service.agenda_tree(meeting)
    # After a change the page comes back with the focus on the item that changed
    # (autofocus, so keyboard users keep their place without any script).
    focus_id = request.args.get("focus", type=int)
    focus_dir = request.args.get("dir") if request.args.get("dir") in DIRECTIONS else "up"
    return render_template(
        "meetings/agenda.html", meeting=meeting, tab="agenda", tree=tree,
        flat=agenda_service.flatten(tree.items), people=participants_of(meeting),
        errors=errors or {}, values=values or {}, editing=editing, max_depth=MAX_AGENDA_DEPTH,
        focus_id=focus_id, focus_dir=focus_dir), status


def _back(meeting_id: int, item_id: int | None = None, direction: str | None = None):
    return redirect(url_for("meetings.agenda", meeting_id=meeting_id, focus=item_id,
                            dir=direction))


@bp.get("/<int:meeting_id>/agenda")
@login_required
def agenda(meeting_id: int):
    return render_agenda(get_meeting(meeting_id, current_actor(), Permission.PREPARE))


@bp.post("/<int:meeting_id>/agenda")
@login_required
def add_agenda_item(meeting_id: int):
    actor = current_actor()
    meeting = get_meeting(meeting_id, actor, Permission.PREPARE)
    values = {name: request.form.get(name, "") for name in ITEM_FIELDS + ("parent_id",)}
    try:
        item = agenda_service.add_item(meeting_id, actor, parse_form(AgendaItemCreate, values))
        db.session.commit()
    except (FormError, InvalidInput) as exc:
        db.session.rollback()
        return render_agenda(meeting, form_errors(exc), values, status=422)
    flash(_("Item added."), "success")
    return _back(meeting_id, item.id)


@bp.post("/<int:meeting_id>/agenda/<int:item_id>")
@login_required
def update_agenda_item(meeting_id: int, item_id: int):
    actor = current_actor()
    meeting = get_meeting(meeting_id, actor, Permission.PREPARE)
    values = {name: request.form.get(name, "") for name in ITEM_FIELDS}
    try:
        agenda_service.update_item(meeting_id, item_id, actor, parse_form(AgendaItemUpdate, values))
        db.session.commit()
    except (FormError, InvalidInput) as exc:
        db.session.rollback()
        return render_agenda(meeting, form_errors(exc), values, editing=item_id, status=422)
    flash(_("Item saved."), "success")
    return _back(meeting_id, item_id)


@bp.post("/<int:meeting_id>/agenda/<int:item_id>/delete")
@login_required
def delete_agenda_item(meeting_id: int, item_id: int):
    agenda_service.delete_item(meeting_id, item_id, current_actor())
    db.session.commit()
    flash(_("Item deleted, with the items under it."), "success")
    return _back(meeting_id)


def target_of(nodes: list[AgendaItemOut], item_id: int, direction: str) -> AgendaMove | None:
    """Where a one-step move puts the item, or None when it cannot go that way."""
    flat = agenda_service.flatten(nodes)
    by_id = {n.id: n for n in flat}
    item = by_id[item_id]
    siblings = by_id[item.parent_id].children if item.parent_id else nodes
    index = next(i for i, s in enumerate(siblings) if s.id == item_id)
    if direction == "up" and index > 0:
        return AgendaMove(parent_id=item.parent_id, position=index - 1)
    if direction == "down" and index < len(siblings) - 1:
        return AgendaMove(parent_id=item.parent_id, position=index + 1)
    if direction == "indent" and index > 0:
        new_parent = siblings[index - 1]
        return AgendaMove(parent_id=new_parent.id, position=len(new_parent.children))
    if direction == "outdent" and item.parent_id:
        parent = by_id[item.parent_id]
        grand = by_id[parent.parent_id].children if parent.parent_id else nodes
        position = next(i for i, s in enumerate(grand) if s.id == parent.id) + 1
        return AgendaMove(parent_id=parent.parent_id, position=position)
    return None


@bp.post("/<int:meeting_id>/agenda/<int:item_id>/move")
@login_required
def move_agenda_item(meeting_id: int, item_id: int):
    actor = current_actor()
    meeting = get_meeting(meeting_id, actor, Permission.PREPARE)
    direction = request.form.get("direction", "")
    tree = agenda_service.agenda_tree(meeting)
    if direction not in DIRECTIONS:
        raise InvalidInput(_("Unknown direction."), fields={"direction": _("Unknown direction.")})
    if item_id not in {n.id for n in agenda_service.flatten(tree.items)}:
        raise NotFound(_("No such agenda item in this meeting."))
    move = target_of(tree.items, item_id, direction)
    if move is None:
        flash(_("The item cannot move that way."), "error")
        return _back(meeting_id, item_id, direction)
    try:
        agenda_service.move_item(meeting_id, item_id, actor, move)
        db.session.commit()
    except InvalidInput as exc:
        db.session.rollback()
        flash(exc.message, "error")
    return _back(meeting_id, item_id, direction)
