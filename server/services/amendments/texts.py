"""A draft entered as text, with line numbers that never shift.

The secretary (``Permission.PREPARE``) enters the text; each line of it, as
entered, keeps its number for good: amendments cite those numbers, and the
adopted text is assembled beside the original, never renumbering it. Anyone who
may see the meeting (``Permission.VIEW``) or watch it (the projector) reads it.
"""
from __future__ import annotations

from sqlalchemy import select

from server.errors import InvalidInput, NotFound
from server.extensions import db
from server.models import AgendaItem, DraftText, Meeting, utcnow
from server.schemas.amendments import DraftTextIn
from server.schemas.types import MAX_ID
from server.services import audit
from server.services.access import Permission, get_meeting, permissions
from server.services.actors import Actor


def split_lines(text: str) -> list[str]:
    """The lines of a text as entered, trailing blanks dropped (a blank line inside stays)."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def get_draft(draft_id: int) -> DraftText:
    draft = db.session.get(DraftText, draft_id) if 0 < draft_id <= MAX_ID else None
    if draft is None:
        raise NotFound("No such draft text.")
    return draft


def seen_by(actor: Actor | None, draft_id: int, permission: Permission = Permission.VIEW
            ) -> tuple[DraftText, Meeting]:
    """The draft and its meeting if the actor has ``permission`` there (the projector,
    which only watches, reads it too); otherwise NotFound or Forbidden as for the meeting."""
    draft = get_draft(draft_id)
    if permission == Permission.VIEW:
        meeting = get_meeting(draft.meeting_id, actor, Permission.WATCH)
    else:
        meeting = get_meeting(draft.meeting_id, actor, permission)
    return draft, meeting


def is_staff(actor: Actor | None, meeting: Meeting) -> bool:
    return actor is not None and Permission.STAFF_VIEW in permissions(actor, meeting)


def enter_draft(actor: Actor | None, meeting_id: int, fields: DraftTextIn) -> DraftText:
    """Enter a draft as text; its lines are numbered from 1 as entered."""
    meeting = get_meeting(meeting_id, actor, Permission.PREPARE)
    if fields.agenda_item_id is not None:
        item = db.session.get(AgendaItem, fields.agenda_item_id)
        if item is None or item.meeting_id != meeting.id:
            raise InvalidInput("The agenda item is not in this meeting.",
                               fields={"agenda_item_id": "unknown agenda item"})
    lines = split_lines(fields.text)
    draft = DraftText(meeting_id=meeting.id, agenda_item_id=fields.agenda_item_id,
                      title=fields.title, lines=lines, created_at=utcnow(),
                      created_by_id=actor.user.id if actor.user else None)
    db.session.add(draft)
    db.session.flush()
    audit.record("draft_text.enter", "draft_text", draft.id, actor=actor, meeting_id=meeting.id,
                 payload={"title": draft.title, "lines": len(lines),
                          "agenda_item_id": fields.agenda_item_id})
    return draft


def drafts_of(actor: Actor | None, meeting_id: int) -> list[DraftText]:
    """The meeting's draft texts, in the order entered."""
    meeting = get_meeting(meeting_id, actor, Permission.WATCH)
    return list(db.session.scalars(select(DraftText).where(DraftText.meeting_id == meeting.id)
                                   .order_by(DraftText.id)))
