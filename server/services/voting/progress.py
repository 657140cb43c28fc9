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
from server.models import (
    AttendanceStatus, Participant, Poll, PollKind, PollStatus, VoterRecord,
)
from server.services import events
from server.services.voting.lookup import VOTING_ROLES

log = logging.getLogger(__name__)
DEFAULT_INTERVAL = 0.3  # seconds; 0 under TESTING, or POLL_PROGRESS_INTERVAL
EVENT_NAMES_LIMIT = 50


def progress(poll: Poll, names_limit: int | None = None) -> dict:
    """Ballots in (count and weight) against the voting members; who is missing if named.

    With ``names_limit``, the list of who has not voted is given only when it
    is that short (events stay small in a 1,000-member body; the API gives all).
    """
    cast, weight = db.session.execute(
        select(func.count(VoterRecord.id), func.coalesce(func.sum(Participant.weight), 0))
        .join(Participant, Participant.id == VoterRecord.represented_id)
        .where(VoterRecord.poll_id == poll.id)).one()
    members = (Participant.meeting_id == poll.meeting_id, Participant.voting_right.is_(True),
               Participant.role.in_(VOTING_ROLES))
    count, total, present = db.session.execute(select(
        func.count(Participant.id), func.coalesce(func.sum(Participant.weight), 0),
        func.count(Participant.id).filter(Participant.attendance == AttendanceStatus.PRESENT),
    ).where(*members)).one()
    figures = {"poll_id": poll.id, "status": poll.status.value, "cast": cast,
               "cast_weight": str(Decimal(weight)), "members": count,
               "members_weight": str(Decimal(total)), "present": present}
    if poll.kind == PollKind.NAMED:
        figures["not_voted_count"] = count - cast
    if poll.kind == PollKind.NAMED and (names_limit is None or count - cast <= names_limit):
        voted = select(VoterRecord.represented_id).where(VoterRecord.poll_id == poll.id)
        missing = db.session.execute(
            select(Participant.id, Participant.full_name, Participant.attendance)
            .where(*members, Participant.id.not_in(voted)).order_by(Participant.id))
        figures["not_voted"] = [{"participant_id": p.id, "name": p.full_name,
                                 "attendance": p.attendance.value} for p in missing]
    return figures


def publish_progress(poll: Poll) -> None:
    events.publish(poll.meeting_id, "poll.progress", progress(poll, EVENT_NAMES_LIMIT),
                   audience="staff")


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
    default = 0.0 if config.get("TESTING") else DEFAULT_INTERVAL
    interval = config.get("POLL_PROGRESS_INTERVAL", default)
    delay = throttle.decide(poll.id, interval)
    if delay == 0.0:
        publish_progress(poll)
    elif delay is not None:
        socketio.start_background_task(_flush_later, current_app._get_current_object(), poll.id,
                                       delay)



