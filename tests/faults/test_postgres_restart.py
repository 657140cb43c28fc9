"""PostgreSQL restarted under two workers (the scaled-out setup).

The PostgreSQL shared by everyone on these machines (5432) is never touched: the test
initialises a private cluster of its own on a free port with the server binaries, stops it
the hard way (``pg_ctl -m immediate``, as a crash) and starts it again on the same port.
"""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
import requests

from server.extensions import db
from tests.conftest import service_unavailable
from tests.faults.room import db_revision, ok
from tests.live import free_port, scaled_out, wait_until
from tests.realtime.clients import LiveClient, login_cookie
from tests.realtime.seed import seed_meeting

pytestmark = [pytest.mark.live, pytest.mark.services]


class PrivatePostgres:
    """A throw-away PostgreSQL cluster on a free port (trust auth, no fsync)."""

    def __init__(self, workdir: Path):
        binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not binaries:
            service_unavailable("PostgreSQL server binaries", "no /usr/lib/postgresql/*/bin/initdb")
        self.bin = Path(binaries[-1]).parent
        self.workdir, self.port = workdir, free_port()
        self.data = workdir / "data"

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            command = ["su", "postgres", "-s", "/bin/sh", "-c", " ".join(command)]
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    def init(self) -> "PrivatePostgres":
        self.workdir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.workdir, "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres")
        return self.start()

    def start(self) -> "PrivatePostgres":
        options = (f"'-p {self.port} -k {self.workdir} -c listen_addresses=127.0.0.1 "
                   "-c fsync=off'")
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l",
                  str(self.workdir / "log"), "-w", "start")
        return self

    def crash(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "stop")


@pytest.fixture
def private_postgres():
    # Not under pytest's tmp_path: the postgres user cannot enter root's 0700 directories.
    workdir = Path(tempfile.mkdtemp(prefix="hemicycle-pg-"))
    workdir.chmod(0o755)
    server = PrivatePostgres(workdir / "pg")
    try:
        server.init()
    except (subprocess.CalledProcessError, OSError, KeyError) as exc:
        service_unavailable("a private PostgreSQL cluster", str(exc))
    try:
        yield server
    finally:
        try:
            server.crash()
        except subprocess.CalledProcessError:
            pass  # already stopped
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def workers(tmp_path, private_postgres, redis_url):
    with scaled_out(tmp_path, private_postgres.url, redis_url, migrate=True) as workers:
        yield workers


def test_workers_recover_after_postgresql_restarts(private_postgres, workers):
    clients = []
    try:
        first, second = workers
        seeded = seed_meeting()
        mid = seeded.meeting.id
        item_ids = [item.id for item in seeded.items]
        db.session.commit()  # this process's pooled connections are checked on reuse (pre-ping)
        chair = LiveClient(first.url, cookie=login_cookie(first.url, seeded.chair_user),
                           auth={"meeting_id": mid}).connect()
        tablet = LiveClient(second.url, auth={"token": seeded.tablet_token}).connect()
        clients = [chair, tablet]
        ok(chair.call("session.open", {"meeting_id": mid}))
        ok(chair.call("item.next", {"meeting_id": mid}))
        tablet.wait_for_event("item.changed", current_item_id=item_ids[0])

        private_postgres.crash()
        # While the database is down a change is refused with an error answer, not a crash.
        during = chair.call("item.next", {"meeting_id": mid}, timeout=30)
        assert during.get("ok") is False, during
        assert during["error"]["code"] == "database_unavailable", during
        health = requests.get(first.url + "/healthz", timeout=30)
        assert health.status_code == 503
        assert health.json()["error"]["code"] == "database_unavailable"
        for worker in workers:
            assert worker.process.poll() is None, worker.log()
        private_postgres.start()

        # Pooled connections died with the old server; the next change gets fresh ones.
        after = wait_until(lambda: _try(chair, mid), 30, "a change after PostgreSQL restarted")
        [event] = tablet.wait_for_event("item.changed", current_item_id=item_ids[1])
        assert event["revision"] == after["revision"]
        assert ok(tablet.call("sync", {"meeting_id": mid, "since_revision": 0}))["revision"] \
            == db_revision(mid) == after["revision"]
        for worker in workers:
            assert requests.get(worker.url + "/healthz", timeout=10).status_code == 200
    finally:
        for client in clients:
            client.close()


def _try(chair, meeting_id: int) -> dict | None:
    answer = chair.call("item.next", {"meeting_id": meeting_id}, timeout=30)
    return answer if answer.get("ok") else None
