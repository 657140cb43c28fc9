"""Closing a poll: by the chair, on a timer when its time is up, or by whoever looks first.

``find_poll`` closes an open poll past its time before answering, so a late
ballot or read never sees it open; ``schedule_closing`` closes it on time from
a background task. Closing freezes attendance, opens and shuffles secret ballots
(``sealing``), counts (``results``) and announces the result.
"""
from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy import func, select

from server.errors import NotAuthenticated, NotFound
from server.extensions import db, socketio
from server.models import Meeting, Poll, PollKind, PollStatus, VoterRecord, utcnow
from server.services import access, audit, events
from server.services.access import Permission
from server.services.actors import Actor
from server.services.voting import commitment
from server.services.voting.lookup import existing_id, lock_poll, poll_view
from server.services.voting.progress import publish_progress
from server.services.voting.results import attendance_snapshot, ballot_list, compute_result
from server.services.voting.sealing import open_secret_ballots

log = logging.getLogger(__name__)


def find_poll(poll_id: int, actor: Actor | None, permission: Permission) -> tuple[Poll, Meeting]:
    """The poll and its meeting, once the actor is allowed; drafts are for managers only.

    An open poll past its closing time is closed here, by whoever looks at it first.
    """
    poll = db.session.get(Poll, existing_id(poll_id))
    if poll is None:
        if actor is None:  # the same answer as for an existing poll
            raise NotAuthenticated("Log in first.")
        raise NotFound("No such poll.")
    meeting = access.get_meeting(poll.meeting_id, actor, permission)
    managing = Permission.CHAIR in access.permissions(actor, meeting)
    if poll.status == PollStatus.DRAFT and not managing:
        raise NotFound("No such poll.")
    close_if_due(poll)
    return poll, meeting


def close_if_due(poll: Poll) -> bool:
    """Close an open poll whose time is up; True when this call closed it."""
    if poll.status != PollStatus.OPEN or poll.closes_at is None or utcnow() < poll.closes_at:
        return False
    locked = lock_poll(poll.id)  # the same object, reloaded: another worker may have closed it
    if locked.status != PollStatus.OPEN:
        return False
    close_now(Actor.system(), locked)
    return True


def close_now(actor: Actor, poll: Poll) -> Poll:
    """Close a locked, open poll: freeze attendance, count, store the result, announce it."""

    meeting = db.session.get(Meeting, poll.meeting_id)
    snapshot = attendance_snapshot(meeting)
    rejected = open_secret_ballots(poll) if poll.kind == PollKind.SECRET else 0
    result = compute_result(poll, snapshot)
    if rejected:  # sealed ballots altered in the database: not counted, and said so
        result["sealed_rejected"] = rejected
    # Ballots deleted from the database while the poll was open: a voter record has none.
    missing = db.session.scalar(select(func.count()).select_from(VoterRecord).where(
        VoterRecord.poll_id == poll.id)) - result["ballots"] - rejected
    if missing > 0:
        result["ballots_missing"] = missing
    result["closed_at"] = utcnow().isoformat()
    result["ballot_list"] = ballot_list(poll)
    result["ballot_digest"] = commitment.digest(commitment.stored_lines(poll))
    poll.snapshot = {**(poll.snapshot or {}), "close": snapshot}
    poll.result, poll.status, poll.closed_at = result, PollStatus.CLOSED, utcnow()
    audit.record("poll.close", "poll", poll.id, actor=actor, meeting_id=meeting.id,
                 payload={"outcome": result["outcome"], "ballots": result["ballots"],
                          "totals": result["totals"], "quorum_reached": result["quorum_reached"],
                          "ballot_digest": result["ballot_digest"],
                          **{k: result[k] for k in ("sealed_rejected", "ballots_missing")
                             if k in result}})
    publish_progress(poll)
    events.publish(meeting.id, "poll.closed", poll_view(poll))
    return poll


def _close_when_due(app, poll_id: int, delay: float) -> None:
    socketio.sleep(delay)
    with app.app_context():
        try:
            poll = db.session.get(Poll, poll_id)
            if poll is not None and close_if_due(poll):
                db.session.commit()
        except Exception:  # the next ballot or read closes it anyway
            log.exception("poll %s not closed on time", poll_id)
            db.session.rollback()
        finally:
            db.session.remove()


def schedule_closing(poll: Poll) -> None:
    """Close a timed poll when its time is up, from a background task of this worker.

    Best effort: after a restart nothing is scheduled, and the poll is closed
    by the next ballot or read instead (which always refuse a late ballot).
    """
    config = current_app.config
    if poll.closes_at is None or not config.get("POLL_TIMERS", not config.get("TESTING")):
        return
    delay = max(0.0, (poll.closes_at - utcnow()).total_seconds()) + 0.2
    socketio.start_background_task(_close_when_due, current_app._get_current_object(), poll.id,
                                   delay)
