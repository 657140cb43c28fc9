"""Group commit of ballots (``ballot_queue``): a batch answers each ballot exactly as if it
had been cast alone and in order, stores them in one transaction, and costs a few
statements however large it is.
"""
from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import event, func, select

from server.extensions import db
from server.models import (
    AttendanceStatus, AuditEntry, Ballot, Device, Poll, PollKind, VoterRecord, utcnow,
)
from server.services import audit
from server.services.voting import ballot_queue, ballots
from server.services.voting.ballot_queue import Request, Voter
from tests.services.voting.test_voting import Room


def request(who, poll, *choices, ballot_id=None, on_behalf_of=None, meeting_id=None) -> Request:
    return Request(Voter.of(who.actor), poll.id, ballot_id or uuid.uuid4(), list(choices),
                   on_behalf_of, meeting_id=meeting_id)


def outcome(req: Request):
    return ("ok", req.answer["status"]) if req.error is None else ("refused", req.error.code)


def stored(poll) -> int:
    return db.session.scalar(select(func.count()).select_from(VoterRecord)
                             .where(VoterRecord.poll_id == poll.id))


def refusals() -> list[str]:
    return [e.payload["reason"] for e in db.session.scalars(
        select(AuditEntry).where(AuditEntry.outcome == "refused").order_by(AuditEntry.seq))]


def test_a_batch_answers_each_ballot_as_if_cast_alone_in_order(app):
    room = Room(6, present=5)
    a, b, c, d, e, absent = room.delegates
    absent.proxy_holder_id = c.id
    db.session.commit()
    poll = room.poll()
    other = Room(1)
    repeated = uuid.uuid4()
    batch = [
        request(a, poll, "yes"),
        request(b, poll, "no", ballot_id=repeated),
        request(b, poll, "no", ballot_id=repeated),             # a retry in the same batch
        request(b, poll, "yes"),                                 # a second vote
        request(c, poll, "abstain"),
        request(c, poll, "yes", on_behalf_of=absent.id),         # a proxy
        request(d, poll, "maybe"),                               # not an option
        request(e, poll, "yes", meeting_id=other.meeting.id),    # another meeting's poll
        request(absent, poll, "yes"),                            # not present
    ]
    ballot_queue.run(batch)

    assert [outcome(r) for r in batch] == [
        ("ok", "accepted"), ("ok", "accepted"), ("ok", "accepted"),
        ("refused", "already_voted"), ("ok", "accepted"), ("ok", "accepted"),
        ("refused", "invalid_choices"), ("refused", "not_found"), ("refused", "not_present"),
    ]
    assert batch[1].answer == batch[2].answer
    assert batch[5].answer["on_behalf_of"] == absent.id
    assert {r.revision for r in batch if r.error is None} == {room.meeting.revision}
    db.session.expire_all()
    assert stored(poll) == 4
    # Every refusal the voter could have avoided is audited, in the same transaction.
    assert refusals() == ["already_voted", "invalid_choices", "not_present"]
    assert audit.verify().ok


def test_a_batch_gives_the_same_answers_as_one_by_one(app):
    """The same script of ballots cast as one batch and one at a time, on two polls."""
    room = Room(4)
    script = [(0, "yes"), (1, "no"), (1, "no"), (2, "abstain"), (0, "no"), (3, "nope")]
    answers = []
    for together in (True, False):
        poll = room.poll()
        ids = [uuid.uuid4() for _ in script]
        ids[2] = ids[1]  # a retry
        batch = [request(room.delegates[who], poll, choice, ballot_id=ballot_id)
                 for (who, choice), ballot_id in zip(script, ids)]
        if together:
            ballot_queue.run(batch)
        else:
            for one in batch:
                ballot_queue.run([one])
        answers.append([(outcome(r), r.answer and {**r.answer, "poll_id": None,
                                                    "ballot_id": None}) for r in batch])
    assert answers[0] == answers[1]


def test_secret_ballots_in_a_batch_get_receipts_and_replay_them(app):
    room = Room(3)
    poll = room.poll(kind=PollKind.SECRET)
    ballot_id = uuid.uuid4()
    first = [request(d, poll, "yes") for d in room.delegates[:2]]
    ballot_queue.run([*first, request(room.delegates[2], poll, "no", ballot_id=ballot_id)])
    retry = request(room.delegates[2], poll, "no", ballot_id=ballot_id)
    ballot_queue.run([retry])
    receipts = [r.answer["receipt"] for r in first]
    assert len(set(receipts)) == 2 and all(receipts)
    assert db.session.scalar(select(func.count()).select_from(Ballot)) == 0  # sealed until closing
    room.close(poll)
    assert retry.answer["receipt"] == db.session.scalar(
        select(Ballot.receipt).where(Ballot.poll_id == poll.id, Ballot.choices == ["no"]))
    assert db.session.scalar(select(func.count()).select_from(Ballot).where(
        Ballot.poll_id == poll.id, Ballot.participant_id.is_not(None))) == 0


def test_a_revoked_tablet_is_refused_in_its_batch_and_the_others_count(app):
    room = Room(3)
    poll = room.poll()
    db.session.get(Device, room.delegates[1].actor.device.id).revoked_at = utcnow()
    db.session.commit()
    batch = [request(d, poll, "yes") for d in room.delegates]
    ballot_queue.run(batch)
    assert [outcome(r) for r in batch] == [
        ("ok", "accepted"), ("refused", "revoked"), ("ok", "accepted")]
    assert stored(poll) == 2


def test_a_closed_poll_refuses_the_whole_batch_but_answers_retries(app):
    room = Room(3)
    poll = room.poll()
    early = request(room.delegates[0], poll, "yes")
    ballot_queue.run([early])
    room.close(poll)
    batch = [request(room.delegates[0], poll, "yes", ballot_id=early.ballot_id),
             request(room.delegates[1], poll, "no"), request(room.delegates[2], poll, "no")]
    ballot_queue.run(batch)
    assert [outcome(r) for r in batch] == [
        ("ok", "accepted"), ("refused", "poll_closed"), ("refused", "poll_closed")]


def test_a_batch_costs_a_few_statements_whatever_its_size(app):
    """The point of the batch: statements per batch, not per ballot (a budget that fails
    if a per-ballot query or INSERT comes back)."""
    room = Room(60)
    counts = {}
    for size in (10, 50):
        poll = room.poll()
        batch = [request(d, poll, "yes") for d in room.delegates[:size]]
        db.session.remove()
        statements = []

        def count(*_args, statements=statements):
            statements.append(1)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            ballot_queue.run(batch)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        assert all(r.error is None for r in batch)
        counts[size] = len(statements)
    assert counts[50] == counts[10] <= 25


def test_a_conflict_in_a_batch_falls_back_to_one_transaction_each(app, monkeypatch):
    """If another worker wins a race the locks did not cover, the batch's INSERT fails as a
    whole: every ballot is then cast again alone, and none is lost."""
    from sqlalchemy.exc import IntegrityError

    room = Room(3)
    poll = room.poll()
    real = ballots.cast_many
    calls = []

    def conflict_once(poll_id, casts):
        calls.append(len(casts))
        real(poll_id, casts)
        if len(calls) == 1:
            raise IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed"))

    monkeypatch.setattr(ballots, "cast_many", conflict_once)
    batch = [request(d, poll, "yes") for d in room.delegates]
    ballot_queue.run(batch)
    assert calls == [3, 1, 1, 1]
    assert [outcome(r) for r in batch] == [("ok", "accepted")] * 3
    db.session.expire_all()
    assert stored(poll) == 3
    assert audit.verify().ok


def test_ballots_submitted_at_once_are_cast_together_and_all_counted(app):
    """Threads stand in for the server's greenlets: each submits one ballot and blocks
    until the batch holding it is committed."""
    room = Room(40)
    poll = room.poll()
    voters = [Voter.of(d.actor) for d in room.delegates]
    answers, errors = [], []
    batches = []
    real_run = ballot_queue.run

    def counting_run(batch):
        batches.append(len(batch))
        real_run(batch)

    def vote(voter):
        with app.app_context():
            try:
                answers.append(ballot_queue.submit(
                    Request(voter, poll.id, uuid.uuid4(), ["yes"])))
            except Exception as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(exc)

    ballot_queue.run = counting_run
    try:
        threads = [threading.Thread(target=vote, args=(v,)) for v in voters]
        with ballot_queue._turn:  # hold the turn: every thread queues its ballot meanwhile
            for thread in threads:
                thread.start()
            while len(ballot_queue._queue) < len(voters):
                threading.Event().wait(0.01)
        for thread in threads:
            thread.join(30)
    finally:
        ballot_queue.run = real_run
    assert errors == []
    assert len(answers) == 40 and all(revision for _answer, revision in answers)
    assert batches == [40]
    db.session.expire_all()
    assert stored(poll) == 40
    assert audit.verify().ok


def test_a_database_outage_fails_the_batch_with_database_unavailable(app, monkeypatch):
    from sqlalchemy.exc import OperationalError

    room = Room(2)
    poll = room.poll()

    def gone(poll_id, casts):
        raise OperationalError("SELECT", {}, Exception("server closed the connection"))

    monkeypatch.setattr(ballots, "cast_many", gone)
    batch = [request(d, poll, "yes") for d in room.delegates]
    ballot_queue.run(batch)
    assert [outcome(r) for r in batch] == [("refused", "database_unavailable")] * 2
    monkeypatch.undo()
    assert stored(poll) == 0


@pytest.mark.parametrize("rolled_back", [True, False])
def test_the_audit_chain_survives_appends_in_a_rolled_back_savepoint(app, rolled_back):
    room = Room(1)
    actor = room.staff
    audit.record("test.before", "meeting", 1, actor=actor)
    savepoint = db.session.begin_nested()
    audit.record("test.inside", "meeting", 1, actor=actor, flush=False)
    if rolled_back:
        savepoint.rollback()
    else:
        savepoint.commit()
    audit.record("test.after", "meeting", 1, actor=actor)
    db.session.commit()
    result = audit.verify()
    assert result.ok, result.problems
    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)).all()
    assert ("test.inside" in actions) is not rolled_back
