"""Against the real server process: a kill -9 mid-poll loses no acknowledged ballot, and
tablets vote over Socket.IO while the chair watches progress.
"""
from __future__ import annotations

import threading
import uuid

import pytest
import requests
from sqlalchemy import select

from server import create_app
from server.extensions import db
from server.models import (
    AttendanceStatus, Base, Device, MeetingStatus, Poll, PollKind, Role, User, VoterRecord,
)
from server.services.voting import polls as voting, sealing
from server.services.actors import Actor
from server.services.tokens import new_token, token_digest
from tests import factories
from tests.conftest import test_config as make_config
from tests.live import LiveServer
from tests.realtime.clients import LiveClient, login_cookie

pytestmark = pytest.mark.live
VOTERS = 40


@pytest.fixture
def live_db(tmp_path):
    """A SQLite file this process seeds and the server process serves."""
    url = f"sqlite:///{tmp_path / 'live.db'}"
    app = create_app(make_config(tmp_path, DATABASE_URL=url))
    with app.app_context():
        Base.metadata.create_all(db.engine)
        yield tmp_path, url
        db.session.remove()


def seat_tablets(kind: PollKind) -> tuple[User, Poll, list[str]]:
    staff_user = factories.make_user(Role.SECRETARY)
    meeting = factories.make_meeting(status=MeetingStatus.PUBLISHED)
    tokens = []
    for _ in range(VOTERS):
        person = factories.make_participant(meeting, attendance=AttendanceStatus.PRESENT)
        token = new_token()
        db.session.add(Device(meeting_id=meeting.id, participant_id=person.id,
                              token_sha256=token_digest(token)))
        tokens.append(token)
    db.session.commit()
    staff = Actor.of_user(staff_user)
    poll = voting.create_poll(staff, meeting.id, {"motion": "Biểu quyết thông qua", "kind": kind})
    db.session.commit()
    voting.open_poll(staff, poll.id)
    db.session.commit()
    return staff_user, poll, tokens


def post_ballot(base_url: str, poll_id: int, token: str, ballot_id: str, choice: str):
    return requests.post(f"{base_url}/api/v1/polls/{poll_id}/ballots",
                         json={"ballot_id": ballot_id, "choices": [choice]},
                         headers={"Authorization": f"Bearer {token}"}, timeout=30)


def test_killing_the_server_mid_poll_loses_no_acknowledged_ballot(live_db):
    tmp_path, url = live_db
    staff_user, poll, tokens = seat_tablets(PollKind.SECRET)
    plan = [(token, str(uuid.uuid4()), "yes" if n % 3 else "no") for n, token in enumerate(tokens)]
    acknowledged: dict[str, dict] = {}
    lock = threading.Lock()
    enough = threading.Event()
    server = LiveServer(tmp_path / "data", url).start()

    def vote(chunk):
        for token, ballot_id, choice in chunk:
            try:
                response = post_ballot(server.url, poll.id, token, ballot_id, choice)
            except requests.RequestException:
                return  # the server is gone: this one was never acknowledged
            assert response.status_code == 200, response.text
            with lock:
                acknowledged[ballot_id] = response.json()
                if len(acknowledged) >= 15:
                    enough.set()

    threads = [threading.Thread(target=vote, args=(plan[n::4],)) for n in range(4)]
    try:
        for thread in threads:
            thread.start()
        assert enough.wait(60), server.log()
        server.kill()  # while the other ballots are still on their way
        for thread in threads:
            thread.join()
    finally:
        server.kill()
    assert 15 <= len(acknowledged) < VOTERS

    db.session.remove()
    records = set(db.session.scalars(select(VoterRecord.client_ballot_id_sha256)))
    for ballot_id in acknowledged:
        assert sealing.ballot_id_digest(uuid.UUID(ballot_id)) in records

    with LiveServer(tmp_path / "data", url) as restarted:
        for token, ballot_id, choice in plan:  # every tablet resends what it has not seen acked
            response = post_ballot(restarted.url, poll.id, token, ballot_id, choice)
            assert response.status_code == 200, response.text
            if ballot_id in acknowledged:
                assert response.json() == acknowledged[ballot_id]  # same receipt after the crash
    db.session.remove()
    voting.close_poll(Actor.of_user(staff_user), poll.id)
    db.session.commit()
    result = db.session.get(Poll, poll.id).result
    assert result["ballots"] == VOTERS
    assert result["totals"]["no"]["count"] == sum(1 for *_, c in plan if c == "no")
    receipts = {b["receipt"] for b in result["ballot_list"]}
    assert {a["receipt"] for a in acknowledged.values()} <= receipts


def test_tablets_vote_over_sockets_and_the_chair_sees_progress(live_db):
    tmp_path, url = live_db
    staff_user, poll, tokens = seat_tablets(PollKind.NAMED)
    with LiveServer(tmp_path / "data", url) as server:
        cookie = login_cookie(server.url, staff_user)
        chair = LiveClient(server.url, cookie=cookie, auth={"meeting_id": poll.meeting_id})
        tablet = LiveClient(server.url, auth={"token": tokens[0]})
        with chair, tablet:
            ballot = {"meeting_id": poll.meeting_id, "poll_id": poll.id,
                      "ballot_id": str(uuid.uuid4()), "choices": ["yes"]}
            answer = tablet.call("ballot.cast", ballot)
            assert answer["ok"] is True, answer
            assert tablet.call("ballot.cast", ballot)["ballot"] == answer["ballot"]
            twice = tablet.call("ballot.cast", {**ballot, "ballot_id": str(uuid.uuid4())})
            assert twice["ok"] is False and twice["error"]["code"] == "already_voted"
            progress = chair.wait_for_event("poll.progress", cast=1)
            assert len(progress[-1]["payload"]["not_voted"]) == VOTERS - 1
            assert tablet.events("poll.progress") == []  # staff only
            refused = tablet.call("poll.close", {"meeting_id": poll.meeting_id, "poll_id": poll.id})
            assert refused["ok"] is False
            closed = chair.call("poll.close", {"meeting_id": poll.meeting_id, "poll_id": poll.id})
            assert closed["ok"] is True and closed["poll"]["status"] == "closed"
            tablet.wait_for_event("poll.closed", id=poll.id)
            published = chair.call("poll.publish", {"meeting_id": poll.meeting_id,
                                                    "poll_id": poll.id})
            assert published["ok"] is True
            event = tablet.wait_for_event("poll.published", id=poll.id)[-1]
            assert event["payload"]["result"]["totals"]["yes"]["count"] == 1


def test_a_timed_poll_closes_by_itself(live_db):
    tmp_path, url = live_db
    staff_user, poll, tokens = seat_tablets(PollKind.NAMED)
    voting.cancel_poll(Actor.of_user(staff_user), poll.id)
    timed = voting.create_poll(Actor.of_user(staff_user), poll.meeting_id,
                               {"motion": "Biểu quyết có thời hạn", "duration_seconds": 10})
    db.session.commit()
    with LiveServer(tmp_path / "data", url) as server:
        chair = LiveClient(server.url, cookie=login_cookie(server.url, staff_user),
                           auth={"meeting_id": poll.meeting_id})
        tablet = LiveClient(server.url, auth={"token": tokens[0]})
        with chair, tablet:
            opened = chair.call("poll.open", {"meeting_id": poll.meeting_id, "poll_id": timed.id})
            assert opened["ok"] is True and opened["poll"]["closes_at"], opened
            # nobody touches the poll: the server closes it when its time is up
            tablet.wait_for(lambda: [e for e in tablet.events("poll.closed")
                                     if e["payload"]["id"] == timed.id], timeout=60,
                            what="the timed poll closing")
    db.session.remove()
    assert db.session.get(Poll, timed.id).status.value == "closed"
