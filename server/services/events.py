"""Meeting revisions: every live change becomes a MeetingEvent, broadcast after commit.

``publish()`` bumps the meeting's revision and appends the event in the
caller's transaction. Only when that transaction commits are the events handed
to the broadcaster (``server.realtime.broadcast``), so a client never sees a
change that was rolled back, and one that reconnects can replay the log.
"""
from __future__ import annotations

from sqlalchemy import event, update
from sqlalchemy.orm import Session

from server.extensions import db
from server.models import Meeting, MeetingEvent, utcnow

_PENDING_KEY = "hemicycle.pending_events"
_listeners: list = []


def on_committed(listener) -> None:
    """Register ``listener(list[MeetingEvent])`` to run after each commit that published events."""
    _listeners.append(listener)


def publish(meeting_id: int, type: str, payload: dict, audience: str = "all") -> MeetingEvent:
    session = db.session
    revision = session.execute(
        update(Meeting)
        .where(Meeting.id == meeting_id)
        .values(revision=Meeting.revision + 1)
        .returning(Meeting.revision)
    ).scalar_one()
    entry = MeetingEvent(meeting_id=meeting_id, revision=revision, type=type, payload=payload,
                         audience=audience, created_at=utcnow())
    session.add(entry)
    session.info.setdefault(_PENDING_KEY, []).append(entry)
    return entry


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    pending = session.info.pop(_PENDING_KEY, None)
    if pending:
        for listener in _listeners:
            listener(pending)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING_KEY, None)
