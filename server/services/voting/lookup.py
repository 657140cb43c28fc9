"""Finding a poll's row and what anyone who may see a poll is told about it.

The bottom of the voting package: polls, ballots, progress and closing all use
these, and this module uses none of them.
"""
from __future__ import annotations

from sqlalchemy import select, text

from server.errors import NotFound
from server.extensions import db
from server.models import MeetingRole, Poll
from server.schemas.types import MAX_ID
from server.services import audit
from server.services.timestamps import iso

VOTING_ROLES = (MeetingRole.CHAIR, MeetingRole.DELEGATE)


def existing_id(value: int, what: str = "poll") -> int:
    if not 0 < value <= MAX_ID:
        raise NotFound(f"No such {what}.")
    return value


def poll_view(poll: Poll) -> dict:
    """What anyone who may see the poll is told about it (never a result)."""
    return {
        "id": poll.id, "meeting_id": poll.meeting_id, "agenda_item_id": poll.agenda_item_id,
        "motion": poll.motion, "kind": poll.kind.value, "option_kind": poll.option_kind.value,
        "options": [{"key": o.key, "label": o.label} for o in poll.options],
        "min_choices": poll.min_choices, "max_choices": poll.max_choices,
        "majority": poll.majority.value, "majority_base": poll.majority_base.value,
        "abstentions_count": poll.abstentions_count, "quorum_required": poll.quorum_required,
        "allow_change": poll.allow_change, "duration_seconds": poll.duration_seconds,
        "status": poll.status.value, "revote_of_id": poll.revote_of_id,
        "opened_at": iso(poll.opened_at), "closes_at": iso(poll.closes_at),
        "closed_at": iso(poll.closed_at), "published_at": iso(poll.published_at),
        "decision": poll.decision,
    }


def lock_poll(poll_id: int) -> Poll:
    """Take the poll's write lock and reload it: casts and closing are serialised per poll.

    PostgreSQL locks the row; SQLite's single writer lock is taken by a no-op
    write first, so the checks that follow read what every earlier cast committed.
    """
    if db.session.bind.dialect.name == "sqlite":
        db.session.execute(text("UPDATE poll SET id = id WHERE id = :id"), {"id": poll_id})
        audit.sqlite_writer_lock_held(db.session)
    poll = db.session.scalar(select(Poll).where(Poll.id == poll_id).with_for_update()
                             .execution_options(populate_existing=True))
    if poll is None:
        raise NotFound("No such poll.")
    return poll
