"""Live progress of an open poll for the chair and the secretary.

How many ballots are in (and their weight) and, for a named poll, who has not
voted yet. Never a running tally. ``poll.progress`` events go to staff only,
and a burst of ballots is coalesced: at most one event per interval per poll,
the first at once and the last one after the burst (so the final figure is
never lost), sent by a background task.
"""
from __future__ import annotations

import logging
import threading
import time
from decimal import Decimal

from flask import current_app
from sqlalchemy import func, select

from server.extensions import db, socketio
from server.models import Participant, Poll, PollKind, PollStatus, VoterRecord
from server.services import access, events
from server.services.access import Permission
from server.services.actors import Actor
from server.services.poll_results import voting_members

log = logging.getLogger(__name__)
DEFAULT_INTERVAL = 0.3  # seconds; tests set POLL_PROGRESS_INTERVAL to 0 through TESTING


def progress(poll: Poll) -> dict:
    """Ballots in (count and weight) against the voting members; who is missing if named."""
    cast, weight = db.session.execute(
        select(func.count(VoterRecord.id), func.coalesce(func.sum(Participant.weight), 0))
        .join(Participant, Participant.id == VoterRecord.represented_id)
        .where(VoterRecord.poll_id == poll.id)).one()
    members = voting_members(poll.meeting_id)
    figures = {"poll_id": poll.id, "status": poll.status.value, "cast": cast,
               "cast_weight": str(Decimal(weight)), "members": len(members),
               "members_weight": str(sum((m.weight for m in members), Decimal(0))),
               "present": sum(1 for m in members if m.attendance.value == "present")}
    if poll.kind == PollKind.NAMED:
        voted = set(db.session.scalars(select(VoterRecord.represented_id)
                                       .where(VoterRecord.poll_id == poll.id)))
        figures["not_voted"] = [{"participant_id": m.id, "name": m.full_name,
                                 "attendance": m.attendance.value}
                                for m in members if m.id not in voted]
    return figures


def staff_progress(actor: Actor | None, poll_id: int) -> dict:
    from server.services.voting import find_poll

    poll, meeting = find_poll(poll_id, actor, Permission.VIEW)
    access.require(actor, meeting, Permission.STAFF_VIEW)
    return progress(poll)


def publish_progress(poll: Poll) -> None:
    events.publish(poll.meeting_id, "poll.progress", progress(poll), audience="staff")


class Throttle:
    """Per poll: publish now, later (after ``delay``), or not at all (one is already due)."""

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self._last: dict[int, float] = {}
        self._pending: set[int] = set()
        self._lock = threading.Lock()

    def decide(self, poll_id: int, interval: float) -> float | None:
        """0 to publish at once, a positive delay to schedule one, None if one is scheduled."""
        with self._lock:
            if poll_id in self._pending:
                return None
            now, last = self.clock(), self._last.get(poll_id)
            if last is None or now - last >= interval:
                self._last[poll_id] = now
                return 0.0
            self._pending.add(poll_id)
            return interval - (now - last)

    def flushed(self, poll_id: int) -> None:
        with self._lock:
            self._pending.discard(poll_id)
            self._last[poll_id] = self.clock()


throttle = Throttle()


def flush_progress(poll_id: int) -> None:
    """The trailing event of a burst, in a transaction of its own."""
    throttle.flushed(poll_id)
    poll = db.session.get(Poll, poll_id)
    if poll is not None and poll.status == PollStatus.OPEN:
        publish_progress(poll)
        db.session.commit()


def _flush_later(app, poll_id: int, delay: float) -> None:
    socketio.sleep(delay)
    with app.app_context():
        try:
            flush_progress(poll_id)
        except Exception:  # a lost progress event must not kill the worker
            log.exception("progress of poll %s not published", poll_id)
            db.session.rollback()
        finally:
            db.session.remove()


def ballot_counted(poll: Poll) -> None:
    """After a ballot: progress now, or coalesced into a trailing event."""
    config = current_app.config
    interval = config.get("POLL_PROGRESS_INTERVAL", 0.0 if config.get("TESTING") else DEFAULT_INTERVAL)
    delay = throttle.decide(poll.id, interval)
    if delay == 0.0:
        publish_progress(poll)
    elif delay is not None:
        socketio.start_background_task(_flush_later, current_app._get_current_object(), poll.id, delay)

