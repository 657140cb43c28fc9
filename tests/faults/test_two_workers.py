"""Two worker processes with a Redis channel of their own: tablets flap between them, one dies.

Redis itself is shared by every engineer's runs on this machine, so it is
never restarted here (docs/SECURITY.md); each run gets its own Socket.IO
channel instead. A worker is killed (-9) mid-poll and restarted; its tablets
fail over to the other worker, and the whole room converges on one revision
with every acknowledged ballot counted.
"""
from __future__ import annotations

import time
import uuid

import pytest
import requests

from server.extensions import db
from server.models import Poll
from tests.faults.tablets import Tablet, cast_until_acknowledged
from tests.faults.room import Tender, converge, counted, create_poll, ok, seat
from tests.realtime.clients import LiveClient, login_cookie

pytestmark = [pytest.mark.live, pytest.mark.services]


def test_tablets_fail_over_between_workers_and_converge(two_workers):
    first, second = two_workers
    seeded, tokens = seat(16)
    mid = seeded.meeting.id
    tablets = [Tablet((first, second)[n % 2].url, token, mid) for n, token in enumerate(tokens)]
    for tablet in tablets:
        tablet.connect()
    chair = LiveClient(first.url, cookie=login_cookie(first.url, seeded.chair_user),
                       auth={"meeting_id": mid}).connect()
    tender = Tender(tablets)
    tender.start()
    try:
        ok(chair.call("session.open", {"meeting_id": mid}))
        ok(chair.call("item.next", {"meeting_id": mid}))
        poll_id = create_poll(first.url, seeded, "Biểu quyết trên hai máy chủ")
        ok(chair.call("poll.open", {"meeting_id": mid, "poll_id": poll_id}))
        plan = {t: (str(uuid.uuid4()), "yes") for t in tablets}
        deadline = time.monotonic() + 60
        for tablet in tablets[:8]:
            cast_until_acknowledged(tablet, poll_id, *plan[tablet], deadline)

        second.kill()  # a worker dies mid-poll; its tablets come back through the other one
        for tablet in tablets:
            if tablet.url == second.url:
                tablet.url = first.url
        ok(chair.call("item.next", {"meeting_id": mid}))
        restarted = second.restarted()
        two_workers[1] = restarted  # stopped with the others at the end
        for n, tablet in enumerate(tablets):  # half of the room flaps back to the new worker
            if n % 4 == 0:
                tablet.url = restarted.url
                tablet.drop()
        for tablet in tablets:
            cast_until_acknowledged(tablet, poll_id, *plan[tablet], deadline)
        ok(chair.call("poll.close", {"meeting_id": mid, "poll_id": poll_id}))
    finally:
        tender.stop.set()
        tender.join(5)
    try:
        counted(poll_id, [ballot_id for ballot_id, _ in plan.values()])
        db.session.remove()
        assert db.session.get(Poll, poll_id).result["ballots"] == len(tablets)
        converge(tablets, mid)
        for worker in two_workers:
            assert requests.get(worker.url + "/healthz", timeout=5).status_code == 200
    finally:
        chair.close()
        for tablet in tablets:
            tablet.close()
