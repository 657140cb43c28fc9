"""Two worker processes with a Redis channel of their own: tablets flap between them, one dies.

Redis itself is shared by every engineer's runs on this machine, so it is
never restarted here (docs/SECURITY.md); each run gets its own Socket.IO
channel instead. A worker is killed (-9) mid-poll and restarted; its tablets
fail over to the other worker, and the whole room converges on one revision
with every acknowledged ballot counted.
"""
from __future__ import annotations

import secrets
import time
import uuid

import pytest
import requests

from server import create_app
from server.extensions import db
from server.models import Base, Poll
from tests.conftest import test_config as config_for
from tests.faults.tablets import Tablet, cast_until_acknowledged
from tests.faults.room import Tender, converge, counted, create_poll, ok, seat
from tests.live import LiveServer
from tests.pg import scratch_database
from tests.realtime.clients import LiveClient, login_cookie

pytestmark = [pytest.mark.live, pytest.mark.services]


@pytest.fixture
def workers(tmp_path, postgres_url, redis_url):
    with scratch_database(postgres_url) as database_url:
        app = create_app(config_for(tmp_path, DATABASE_URL=database_url))
        context = app.app_context()
        context.push()
        Base.metadata.create_all(db.engine)
        env = {"HEMICYCLE_SOCKETIO_CHANNEL": f"hemicycle-faults-{secrets.token_hex(6)}"}
        pair = [LiveServer(tmp_path / f"worker{n}", database_url, redis_url=redis_url, env=env)
                for n in (1, 2)]
        try:
            for worker in pair:
                worker.start()
            yield pair
        finally:
            for worker in pair:
                worker.stop()
            db.session.remove()
            db.engine.dispose()
            context.pop()


def test_tablets_fail_over_between_workers_and_converge(workers):
    first, second = workers
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
        restarted = LiveServer(second.data_dir, second.database_url, redis_url=second.redis_url,
                               env=second.extra_env, port=second.port).start()
        workers[1] = restarted
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
        for worker in workers:
            assert requests.get(worker.url + "/healthz", timeout=5).status_code == 200
    finally:
        chair.close()
        for tablet in tablets:
            tablet.close()
