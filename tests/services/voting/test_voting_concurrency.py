"""1,000 ballots cast at once from several threads give an exact tally, retries included.

Runs on a SQLite file (the ``app`` fixture) and on the real PostgreSQL, each
in a schema of its own so parallel test runs do not meet.
"""
from __future__ import annotations

import random
import threading
import uuid
from decimal import Decimal

import pytest
import sqlalchemy
from sqlalchemy import select

from server import create_app
from server.errors import Conflict
from server.extensions import db
from server.models import (
    AttendanceStatus, Base, Device, MeetingEvent, MeetingStatus, Participant, Poll, PollKind,
    QuorumRule, Role,
)
from server.services.voting import ballot_queue, ballots, polls
from server.services.actors import Actor
from server.services.tokens import new_token, token_digest
from tests import factories
from tests.conftest import test_config as make_config

VOTERS = 1000
THREADS = 8


def seat_many(n: int) -> tuple[Actor, int, list[int]]:
    """A published meeting with ``n`` present delegates of varied weight, on tablets."""
    staff = Actor.of_user(factories.make_user(Role.SECRETARY, password=None))
    meeting = factories.make_meeting(status=MeetingStatus.PUBLISHED,
                                     quorum_rule=QuorumRule.MAJORITY)
    people = [Participant(meeting_id=meeting.id, full_name=f"Đại biểu {i}",
                          weight=Decimal("1") + Decimal("0.25") * (i % 4),
                          attendance=AttendanceStatus.PRESENT) for i in range(n)]
    db.session.add_all(people)
    db.session.flush()
    devices = [Device(meeting_id=meeting.id, participant_id=p.id,
                      token_sha256=token_digest(new_token())) for p in people]
    db.session.add_all(devices)
    db.session.commit()
    return staff, meeting.id, [d.id for d in devices]


def choice_of(index: int) -> str:
    return ("yes", "no", "abstain", "yes", "no", "yes", "yes")[index % 7]


def cast(poll_id: int, device_id: int, ballot_id: uuid.UUID, choice: str,
         via_queue: bool) -> dict:
    if via_queue:  # what the server does for tablets: group commit
        answer, _revision = ballot_queue.submit(ballot_queue.Request(
            ballot_queue.Voter(device_id=device_id), poll_id, ballot_id, [choice]))
        return answer
    actor = Actor.of_device(db.session.get(Device, device_id))
    answer = ballots.cast_ballot(actor, poll_id, ballot_id, [choice])
    db.session.commit()
    return answer


def cast_all(app, poll_id: int, device_ids: list[int], via_queue: bool = False) -> list[dict]:
    """Every delegate votes once from one of THREADS threads; one in five retries its ballot."""
    work = [(i, device_id, uuid.uuid4()) for i, device_id in enumerate(device_ids)]
    random.Random(7).shuffle(work)
    answers: list[dict] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(chunk):
        with app.app_context():
            try:
                for i, device_id, ballot_id in chunk:
                    for _attempt in range(2 if i % 5 == 0 else 1):
                        answer = cast(poll_id, device_id, ballot_id, choice_of(i), via_queue)
                        with lock:
                            answers.append(answer)
                    if i % 50 == 0:  # a second ballot id for the same vote is refused
                        try:
                            cast(poll_id, device_id, uuid.uuid4(), choice_of(i), via_queue)
                            errors.append(AssertionError("second vote accepted"))
                        except Conflict as refused:
                            assert refused.code == "already_voted"
            except BaseException as error:  # report it in the main thread
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(work[n::THREADS],)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return answers


def expected_totals(n: int) -> dict:
    totals = {key: {"count": 0, "weight": Decimal(0)} for key in ("yes", "no", "abstain")}
    for i in range(n):
        totals[choice_of(i)]["count"] += 1
        totals[choice_of(i)]["weight"] += Decimal("1") + Decimal("0.25") * (i % 4)
    return totals


def run_burst(app, kind: PollKind, via_queue: bool = False) -> None:
    staff, meeting_id, device_ids = seat_many(VOTERS)
    poll = polls.create_poll(staff, meeting_id, {"motion": "Phê chuẩn quyết toán", "kind": kind})
    db.session.commit()
    polls.open_poll(staff, poll.id)
    db.session.commit()
    answers = cast_all(app, poll.id, device_ids, via_queue)
    assert len(answers) == VOTERS + VOTERS // 5
    first = {}
    for answer in answers:  # retries got exactly the first answer
        assert first.setdefault(answer["ballot_id"], answer) == answer
    polls.close_poll(staff, poll.id)
    db.session.commit()
    result = db.session.get(Poll, poll.id).result
    expected = expected_totals(VOTERS)
    assert result["ballots"] == VOTERS
    for key, figures in expected.items():
        assert result["totals"][key]["count"] == figures["count"]
        assert Decimal(result["totals"][key]["weight"]) == figures["weight"]
    progress = db.session.scalars(select(MeetingEvent).where(MeetingEvent.type == "poll.progress")
                                  .order_by(MeetingEvent.revision)).all()
    assert progress[-1].payload["cast"] == VOTERS
    if kind == PollKind.NAMED:  # events name the missing only once few are missing
        first, last = progress[0].payload, progress[-1].payload
        assert "not_voted" not in first and first["not_voted_count"] > 50
        assert last["not_voted"] == [] and last["not_voted_count"] == 0
    if kind == PollKind.SECRET:
        receipts = {b["receipt"] for b in result["ballot_list"]}
        assert receipts == {a["receipt"] for a in answers} and len(receipts) == VOTERS


@pytest.mark.parametrize("kind", [PollKind.NAMED, PollKind.SECRET])
def test_a_thousand_concurrent_ballots_on_sqlite(app, kind):
    run_burst(app, kind)


@pytest.mark.parametrize("kind", [PollKind.NAMED, PollKind.SECRET])
def test_a_thousand_concurrent_ballots_through_group_commit_on_sqlite(app, kind):
    run_burst(app, kind, via_queue=True)


@pytest.fixture
def postgres_app(postgres_url, tmp_path):
    schema = f"voting_{uuid.uuid4().hex[:12]}"
    admin = sqlalchemy.create_engine(postgres_url)
    with admin.begin() as connection:
        connection.execute(sqlalchemy.text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in postgres_url else "?"
    url = f"{postgres_url}{separator}options=-csearch_path%3D{schema}"
    app = create_app(make_config(tmp_path, DATABASE_URL=url))
    try:
        with app.app_context():
            Base.metadata.create_all(db.engine)
            yield app
            db.session.remove()
            db.engine.dispose()
    finally:
        with admin.begin() as connection:
            connection.execute(sqlalchemy.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.mark.services
def test_a_thousand_concurrent_secret_ballots_on_postgresql(postgres_app):
    run_burst(postgres_app, PollKind.SECRET)


@pytest.mark.services
@pytest.mark.parametrize("kind", [PollKind.NAMED, PollKind.SECRET])
def test_a_thousand_concurrent_ballots_through_group_commit_on_postgresql(postgres_app, kind):
    run_burst(postgres_app, kind, via_queue=True)
