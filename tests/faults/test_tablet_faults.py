"""Faults with real processes: flapping tablets through a scripted meeting, and kill -9 mid-poll.

The voting tests already kill the server while ballots arrive over REST
(tests/services/voting/test_voting_live.py); here ballots travel over Socket.IO from
tablets that reconnect by themselves, and the check is the whole room: every
acknowledged ballot counted, and every tablet back on the server's revision.
"""
from __future__ import annotations

import random
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from server.extensions import db
from server.models import Poll
from tests.faults.room import (
    Tender, converge, counted, create_poll, ok, seat, verify_audit_chain,
)
from tests.faults.tablets import Tablet, cast_until_acknowledged
from tests.realtime.clients import LiveClient, login, login_cookie
from tests.realtime.conftest import start_live

pytestmark = pytest.mark.live


@pytest.fixture
def live(tmp_path):
    env, context = start_live(tmp_path)
    yield env
    env.server.stop()
    db.session.remove()
    context.pop()


def test_flapping_tablets_follow_a_scripted_meeting(live):
    seeded, tokens = seat(30)
    mid = seeded.meeting.id
    tablets = [Tablet(live.url, token, mid) for token in tokens]
    for tablet in tablets:
        tablet.connect()
    chair = LiveClient(live.url, cookie=login_cookie(live.url, seeded.chair_user),
                       auth={"meeting_id": mid}).connect()
    tender, flapping = Tender(tablets), threading.Event()
    rng = random.Random(10)

    def flap():  # 10% of the tablets drop every 1.5 s; the tender brings them back
        while not flapping.is_set():
            for tablet in rng.sample(tablets, len(tablets) // 10):
                tablet.drop()
            flapping.wait(1.5)

    flapper = threading.Thread(target=flap, daemon=True)
    tender.start()
    flapper.start()
    try:
        ok(chair.call("session.open", {"meeting_id": mid}))
        for _ in range(3):
            ok(chair.call("item.next", {"meeting_id": mid}))
            time.sleep(1.0)  # the meeting takes a few seconds: tablets drop all along
        speakers = []
        for tablet in tablets[:3]:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                try:
                    if tablet.connected:
                        speakers.append(ok(tablet.call("floor.request", {"meeting_id": mid})))
                        break
                except Exception:
                    pass
                time.sleep(0.2)
        assert len(speakers) == 3
        ok(chair.call("floor.grant", {"meeting_id": mid, "request_id": speakers[0]["request_id"],
                                      "time_limit_seconds": 60}))
        time.sleep(1.5)
        ok(chair.call("floor.end", {"meeting_id": mid}))

        poll_id = create_poll(live.url, seeded, "Thông qua nghị quyết")
        ok(chair.call("poll.open", {"meeting_id": mid, "poll_id": poll_id}))
        plan = {tablet: (str(uuid.uuid4()), rng.choice(["yes", "no", "abstain"])) for tablet in tablets}
        deadline = time.monotonic() + 90
        with ThreadPoolExecutor(max_workers=10) as pool:
            acks = list(pool.map(lambda t: cast_until_acknowledged(t, poll_id, *plan[t], deadline),
                                 tablets))
        assert all(a["ok"] for a in acks)
        time.sleep(1.0)
        closed = ok(chair.call("poll.close", {"meeting_id": mid, "poll_id": poll_id}))
        ok(chair.call("item.next", {"meeting_id": mid}))
        time.sleep(1.0)
    finally:
        flapping.set()
        flapper.join(5)
        tender.stop.set()
        tender.join(5)
    try:
        counted(poll_id, [ballot_id for ballot_id, _ in plan.values()])
        db.session.remove()
        result = db.session.get(Poll, poll_id).result
        assert result["ballots"] == len(tablets) == closed["poll"].get("ballots", len(tablets))
        revision = converge(tablets, mid)
        chair.wait_for(lambda: max(chair.revisions() or [0]) >= revision - 1, what="chair caught up")
        assert sum(t.drops for t in tablets) >= 12, "the tablets hardly flapped"
        assert requests.get(live.url + "/healthz", timeout=5).status_code == 200
        verify_audit_chain(live.server)
    finally:
        chair.close()
        for tablet in tablets:
            tablet.close()


def test_kill_9_mid_poll_over_sockets(tmp_path):
    env, context = start_live(tmp_path)
    server = env.server
    try:
        seeded, tokens = seat(12)
        mid = seeded.meeting.id
        poll_id = create_poll(server.url, seeded, "Biểu quyết giữa chừng")
        chair_http = login(server.url, seeded.chair_user)
        assert chair_http.post(f"{server.url}/api/v1/polls/{poll_id}/open", timeout=15).ok
        tablets = [Tablet(server.url, token, mid) for token in tokens]
        for tablet in tablets:
            tablet.connect()
        plan = {tablet: (str(uuid.uuid4()), "yes" if n % 4 else "no") for n, tablet in enumerate(tablets)}
        deadline = time.monotonic() + 60
        first = {t: cast_until_acknowledged(t, poll_id, *plan[t], deadline) for t in tablets[:6]}

        server.kill()  # kill -9 with the poll open and half the room voted
        server = server.restarted()
        deadline = time.monotonic() + 60
        again = {t: cast_until_acknowledged(t, poll_id, *plan[t], deadline) for t in tablets}
        for tablet, answer in first.items():
            assert again[tablet]["ballot"] == answer["ballot"], "a replayed ballot got a new answer"
        counted(poll_id, [ballot_id for ballot_id, _ in plan.values()])

        chair_http = login(server.url, seeded.chair_user)
        closed = chair_http.post(f"{server.url}/api/v1/polls/{poll_id}/close", timeout=15)
        assert closed.ok, closed.text
        db.session.remove()
        assert db.session.get(Poll, poll_id).result["ballots"] == len(tablets)
        converge(tablets, mid)
        for tablet in tablets:
            tablet.close()
        verify_audit_chain(server)  # a chain cut by kill -9 still verifies
    finally:
        server.stop()
        db.session.remove()
        context.pop()
