"""Group commit for ballots: the ballots that arrive together are cast in one transaction.

A thousand tablets voting within a second would otherwise queue for one
transaction each (on SQLite, one at a time). Here every caller puts its ballot
in a shared queue and then takes the writer's turn; whoever gets the turn
casts *everything* queued by then, commits once, and hands each caller its own
answer. A caller whose ballot was cast by an earlier turn finds its answer
waiting and returns at once. An answer is given only after the commit that
stored its ballot, so an acknowledged ballot is a stored ballot, as before.

The lock and the queue are per process (green under eventlet and gevent);
across workers the poll's row lock (PostgreSQL) keeps ballots apart.
"""
from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import contains_eager

from server.monitoring import metrics
from server.errors import (
    Conflict, HemicycleError, NotAuthenticated, NotFound, database_unavailable,
)
from server.extensions import db, socketio
from server.models import Device, Meeting, Poll, User
from server.services import audit
from server.services.voting import ballots
from server.schemas.types import MAX_ID
from server.services.actors import Actor, logged_in_user, paired_device

log = logging.getLogger(__name__)

MAX_BATCH = 500  # ballots per transaction; the rest wait for the next turn
GATHER_SECONDS = 0.002  # how long a turn waits for more ballots before it casts


@dataclass(frozen=True)
class Voter:
    """Who casts, by id: the batch reloads them in its own session (and sees a revocation)."""
    device_id: int | None = None
    user_id: int | None = None
    session_epoch: int | None = None

    @classmethod
    def of(cls, actor: Actor) -> "Voter":
        if actor.device is not None:
            return cls(device_id=actor.device.id)
        if actor.user is not None:
            return cls(user_id=actor.user.id, session_epoch=actor.user.session_epoch)
        raise ValueError("only a device or a user casts ballots")


@dataclass(eq=False)
class Request:
    voter: Voter
    poll_id: int
    ballot_id: uuid.UUID
    choices: list
    on_behalf_of: int | None = None
    meeting_id: int | None = None  # the connection's meeting: the poll must be in it
    answer: dict | None = None
    answered_in: int | None = None  # the poll's meeting
    revision: int | None = None
    error: HemicycleError | None = None
    done: bool = False
    queued_at: float = field(default_factory=time.monotonic)


_queue: list[Request] = []
_queue_guard = threading.Lock()
_turn = threading.Lock()


def submit(request: Request) -> tuple[dict, int]:
    """Cast one ballot together with whatever else is queued; (answer, meeting revision).

    Raises the ballot's refusal as ``HemicycleError``, audited like any refusal.
    Ends the caller's (read) transaction first: a caller waiting for its turn
    must not hold one of the pool's connections.
    """
    db.session.rollback()
    with _queue_guard:
        _queue.append(request)
    with _turn:
        while not request.done:  # its batch, after any older ones still queued
            # Let the ballots already on their way join: under eventlet the SQL below
            # blocks every socket, so they are read only when this greenlet yields.
            socketio.sleep(GATHER_SECONDS)
            with _queue_guard:
                batch = _queue[:MAX_BATCH]
                del _queue[:MAX_BATCH]
            _observe(batch)
            run(batch)
    if request.error is not None:
        raise request.error
    return request.answer, request.revision


def _observe(batch: list[Request]) -> None:
    if not batch:
        return
    now = time.monotonic()
    metrics.BALLOT_BATCH_SIZE.observe(len(batch))
    for request in batch:
        metrics.BALLOT_QUEUE_WAIT.observe(now - request.queued_at)


def run(batch: list[Request]) -> None:
    """Cast a batch in one transaction; if a race spoils it, cast each in its own."""
    try:
        _cast(batch)
        db.session.commit()
    except IntegrityError:
        # A race the locks did not cover (another worker): no answer of the batch
        # stands; each ballot is tried again alone, and the loser is told so.
        db.rollback_quietly()
        if len(batch) > 1:
            log.warning("ballot batch of %d hit a conflict; casting one by one", len(batch))
            for request in batch:
                run([request])
        else:
            _refuse_late(batch[0])
    except OperationalError as exc:  # the database went away: nothing was stored
        db.rollback_quietly()
        log.error("ballot batch of %d: database unavailable: %s", len(batch),
                  str(exc).splitlines()[0])
        _fail(batch, database_unavailable())
    except Exception:
        db.rollback_quietly()
        log.exception("ballot batch failed")
        _fail(batch, HemicycleError("Internal error; it has been logged.",
                                    code="internal_error", status=500))
    else:
        _revisions(batch)
    finally:
        for request in batch:
            request.done = True


def _fail(batch: list[Request], error: HemicycleError) -> None:
    for request in batch:
        request.answer, request.error = None, error


def _refuse_late(request: Request) -> None:
    request.answer = None
    request.error = Conflict("This vote has already been cast.", code="already_voted")
    actor = _actors([request]).get(request.voter)
    if isinstance(actor, Actor):
        audit.record("vote.cast", "poll", request.poll_id, actor=actor,
                     meeting_id=request.answered_in, payload={"reason": "already_voted"},
                     outcome="refused")
        db.session.commit()


def _cast(batch: list[Request]) -> None:
    actors = _actors(batch)
    by_poll: dict[int, list[tuple[Request, ballots.Cast]]] = {}
    for request in batch:
        request.answer = request.error = None
        actor = actors.get(request.voter)
        if isinstance(actor, HemicycleError):
            request.error = actor
            continue
        cast = ballots.Cast(actor, request.ballot_id, list(request.choices), request.on_behalf_of)
        by_poll.setdefault(request.poll_id, []).append((request, cast))
    polls = {poll.id: poll for poll in db.session.scalars(
        select(Poll).where(Poll.id.in_([p for p in by_poll if 0 < p <= MAX_ID])))}
    for poll_id, pairs in by_poll.items():
        poll = polls.get(poll_id)
        for request, cast in pairs:
            if poll is not None and request.meeting_id not in (None, poll.meeting_id):
                cast.error = NotFound("No such poll in this meeting.",
                                      fields={"poll_id": "unknown poll"})
        casts = [cast for _request, cast in pairs if cast.error is None]
        try:
            ballots.cast_many(poll_id, casts)
        except HemicycleError as error:  # the poll itself, e.g. deleted meanwhile
            for cast in casts:
                cast.answer, cast.error = None, error
        for request, cast in pairs:
            request.answer, request.error = cast.answer, cast.error
            request.answered_in = poll.meeting_id if poll is not None else None


def _actors(batch: list[Request]) -> dict[Voter, Actor | HemicycleError]:
    """Every voter of the batch, reloaded in two or three queries, or why they may not act."""
    device_ids = {r.voter.device_id for r in batch if r.voter.device_id is not None}
    user_ids = {r.voter.user_id for r in batch if r.voter.user_id is not None}
    devices = {device.id: device for device in db.session.scalars(
        select(Device).outerjoin(Device.participant).options(contains_eager(Device.participant))
        .where(Device.id.in_(device_ids)))} if device_ids else {}
    users = {u.id: u for u in db.session.scalars(
        select(User).where(User.id.in_(user_ids)))} if user_ids else {}
    actors: dict[Voter, Actor | HemicycleError] = {}
    for voter in {r.voter for r in batch}:
        try:
            actors[voter] = (paired_device(devices.get(voter.device_id))
                             if voter.device_id is not None
                             else logged_in_user(users.get(voter.user_id), voter.session_epoch))
        except NotAuthenticated as refused:
            actors[voter] = refused
    return actors


def _revisions(batch: list[Request]) -> None:
    """Each answer carries its meeting's revision, read once per meeting after the commit."""
    meeting_ids = {r.answered_in for r in batch if r.answer is not None}
    if not meeting_ids:
        return
    try:
        revisions = dict(db.session.execute(
            select(Meeting.id, Meeting.revision).where(Meeting.id.in_(meeting_ids))).all())
        db.session.rollback()  # end the read
    except OperationalError:  # the ballots are stored; only the revision is unknown
        db.rollback_quietly()
        return
    for request in batch:
        if request.answer is not None:
            request.revision = revisions.get(request.answered_in)
