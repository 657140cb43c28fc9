"""Meeting revisions: every live change becomes a MeetingEvent, broadcast after commit.

``publish()`` bumps the meeting's revision and appends the event in the
caller's transaction. Only when that transaction commits are the events handed
to the broadcaster (``server.realtime.broadcast``), so a client never sees a
change that was rolled back, and one that reconnects can replay the log.
"""
from __future__ import annotations

import time

from sqlalchemy import event, update
from sqlalchemy.orm import Session

from server.extensions import db
from server.models import Meeting, MeetingEvent, utcnow

_PENDING_KEY = "hemicycle.pending_events"
_SAVEPOINT_MARKS = "hemicycle.savepoint_marks"
_listeners: list = []


def on_committed(listener) -> None:
    """Register ``listener(list[MeetingEvent])`` to run after each commit that published events."""
    _listeners.append(listener)


def pending(session: Session) -> list[MeetingEvent]:
    """The events published in ``session``'s open transaction, to be broadcast at its commit."""
    return list(session.info.get(_PENDING_KEY, ()))


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
    if session.in_nested_transaction():
        return  # a savepoint was released; the real commit is still to come
    pending = session.info.pop(_PENDING_KEY, None)
    if pending:
        committed = time.monotonic()
        for entry in pending:  # the broadcaster measures its lag from here
            entry.committed_monotonic = committed
        for listener in _listeners:
            listener(pending)


@event.listens_for(Session, "after_transaction_create")
def _mark_savepoint(session: Session, transaction) -> None:
    if transaction.nested:
        marks = session.info.setdefault(_SAVEPOINT_MARKS, {})
        marks[id(transaction)] = len(session.info.get(_PENDING_KEY, ()))


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, previous_transaction) -> None:
    """Forget the events a rolled-back savepoint published, or all of them with the
    whole transaction."""
    mark = session.info.get(_SAVEPOINT_MARKS, {}).pop(id(previous_transaction), None)
    if previous_transaction.nested and mark is not None:
        del session.info.get(_PENDING_KEY, [])[mark:]
    elif not previous_transaction.nested:
        session.info.pop(_PENDING_KEY, None)
        session.info.pop(_SAVEPOINT_MARKS, None)
