"""REST endpoints: the nested agenda of a meeting."""
from __future__ import annotations

from server.api.blueprint import bp
from server.api.meetings import PREPARERS, respond
from server.api.spec import endpoint
from server.auth import current_actor
from server.extensions import db
from server.schemas.meetings import (
    AgendaItemCreate, AgendaItemUpdate, AgendaMove, AgendaOrder, AgendaOut,
)
from server.services.meetings import agenda
from server.services.access import Permission, get_meeting

CHANGES = PREPARERS + ", until the meeting is sealed"


def _tree(meeting_id: int) -> AgendaOut:
    return agenda.agenda_tree(get_meeting(meeting_id, current_actor(), Permission.VIEW))


@bp.get("/meetings/<int:meeting_id>/agenda")
@endpoint("The agenda as a tree, with derived numbers (1, 2, 2.1)", tag="agenda",
          response=AgendaOut, errors=(404,), auth="anyone who can see the meeting")
def get_agenda(meeting_id: int):
    return respond(_tree(meeting_id))


@bp.post("/meetings/<int:meeting_id>/agenda")
@endpoint("Add an agenda item, under `parent_id` (at most 3 levels) at `position` or last; "
          "answers the whole agenda", tag="agenda", body=AgendaItemCreate, response=AgendaOut,
          status=201, errors=(404,), auth=CHANGES)
def add_agenda_item(meeting_id: int, body: AgendaItemCreate):
    agenda.add_item(meeting_id, current_actor(), body)
    db.session.commit()
    return respond(_tree(meeting_id), 201)


@bp.put("/meetings/<int:meeting_id>/agenda")
@endpoint("Reorder the whole agenda: a tree naming every item exactly once", tag="agenda",
          body=AgendaOrder, response=AgendaOut, errors=(404,), auth=CHANGES)
def reorder_agenda(meeting_id: int, body: AgendaOrder):
    agenda.reorder(meeting_id, current_actor(), body)
    db.session.commit()
    return respond(_tree(meeting_id))


@bp.patch("/meetings/<int:meeting_id>/agenda/<int:item_id>")
@endpoint("Edit an agenda item; fields left out are unchanged, null clears", tag="agenda",
          body=AgendaItemUpdate, response=AgendaOut, errors=(404,), auth=CHANGES)
def update_agenda_item(meeting_id: int, item_id: int, body: AgendaItemUpdate):
    agenda.update_item(meeting_id, item_id, current_actor(), body)
    db.session.commit()
    return respond(_tree(meeting_id))


@bp.delete("/meetings/<int:meeting_id>/agenda/<int:item_id>")
@endpoint("Delete an agenda item and everything nested under it", tag="agenda", status=204,
          errors=(404,), auth=CHANGES)
def delete_agenda_item(meeting_id: int, item_id: int):
    agenda.delete_item(meeting_id, item_id, current_actor())
    db.session.commit()
    return "", 204


@bp.post("/meetings/<int:meeting_id>/agenda/<int:item_id>/move")
@endpoint("Move an item (with its children) under `parent_id` (null: top level) at 0-based "
          "`position`", tag="agenda", body=AgendaMove, response=AgendaOut, errors=(404,),
          auth=CHANGES)
def move_agenda_item(meeting_id: int, item_id: int, body: AgendaMove):
    agenda.move_item(meeting_id, item_id, current_actor(), body)
    db.session.commit()
    return respond(_tree(meeting_id))
