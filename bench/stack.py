"""The documented production topology, each part its own process, for bench/topology.py.

nginx with docs/DEPLOYMENT.md's configuration in front of two ``hemicycle serve`` workers
(eventlet, a scratch PostgreSQL database, Redis as the Socket.IO queue, page images by
X-Accel-Redirect), and in the same nginx process the baseline: bare Flask-SocketIO workers
(bench/baseline_server.py) on the same Redis, behind a copy of the same configuration.
nginx also serves the page cache statically on a third port, to compare with the page route:
``/static/`` as a plain location, ``/static-open/`` with the page route's ``open_file_cache``.
Below it, what the scenarios connect with: tablets, a chair, the open-file check.
"""
from __future__ import annotations

import contextlib
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import redis
import requests
import socketio

from bench import nginx
from bench.fixtures import BaselineServer, SeededMeeting, rss_kib, seed_meeting
from bench.tablets import TabletFleet, source_addresses
from tests.conftest import POSTGRES_URL, REDIS_URL
from tests.live import LiveServer, free_port
from tests.pg import scratch_database

ACCEL = "/_pages/"


def established(port: int) -> int:
    """Established TCP connections to local ``port`` (nginx's to a worker: its tablets)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(FileNotFoundError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":
                    count += 1
    return count


class PrivateRedis:
    """A redis-server of the run's own (no persistence), or the shared one when the binary
    is not installed; the workers get a channel of their own either way."""

    def __init__(self, run_dir: Path):
        self.process: subprocess.Popen | None = None
        binary = shutil.which("redis-server")
        if binary is None:
            self.url, self.kind = REDIS_URL, "shared"
            return
        port = free_port()
        self.process = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
             "no", "--maxclients", "10000", "--dir", str(run_dir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        self.url, self.kind = f"redis://127.0.0.1:{port}/0", "private"
        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + 20
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.1)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


class Topology:
    """Use as a context manager: the scratch database and Redis on entry; ``seed`` meetings,
    then ``start`` the workers and nginx; everything stopped and dropped on exit."""

    def __init__(self, workers: int = 2, mode: str = "eventlet"):
        self.count, self.mode = workers, mode
        self.workers: list[LiveServer] = []
        self.baselines: list[BaselineServer] = []
        self.proxy: nginx.Nginx | None = None
        self.meetings: list[SeededMeeting] = []
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> "Topology":
        tmp = self._stack.enter_context(tempfile.TemporaryDirectory(
            prefix="hemicycle-topology-", ignore_cleanup_errors=True))
        self.run_dir = Path(tmp)
        self.data_dir = self.run_dir / "data"
        self.data_dir.mkdir()
        self.database_url = self._stack.enter_context(scratch_database(POSTGRES_URL))
        self.redis = PrivateRedis(self.run_dir)
        self._stack.callback(self.redis.stop)
        self._stack.callback(self.stop)
        return self

    def __exit__(self, *exc) -> None:
        self._stack.close()

    def seed(self, tablets: int, poll_kind: str | None = None) -> SeededMeeting:
        seeded = seed_meeting(self.data_dir, tablets, poll_kind, database_url=self.database_url,
                              secretary=not self.meetings)
        self.meetings.append(seeded)
        return seeded

    def start(self) -> "Topology":
        """Start the workers and nginx; nothing when they run (meetings seeded later are
        seen by the running workers, as a meeting created in production is)."""
        if self.proxy is not None:
            return self
        channel = f"hemicycle-bench-{secrets.token_hex(4)}"
        env = {"HEMICYCLE_SOCKETIO_CHANNEL": channel, "HEMICYCLE_ACCEL_REDIRECT": ACCEL,
               "HEMICYCLE_SECRET_KEY": "bench-topology",
               "HEMICYCLE_PAGE_LINK_SECRET": nginx.PAGE_LINK_SECRET}
        self.workers = [LiveServer(self.data_dir, self.database_url, async_mode=self.mode,
                                   redis_url=self.redis.url, env=env) for _ in range(self.count)]
        self.baselines = [BaselineServer(self.mode, self.redis.url, channel + "-baseline")
                          for _ in range(self.count)]
        with ThreadPoolExecutor(2 * self.count) as pool:  # all at once: each waits for /healthz
            starts = [pool.submit(w.start, timeout=60) for w in self.workers]
            starts += [pool.submit(b.start) for b in self.baselines]
            for started in starts:
                started.result()
        self.port, self.baseline_port, self.static_port = free_port(), free_port(), free_port()
        block = nginx.deployment_block()
        blocks = [nginx.local_block(block, port=self.port, workers=[w.port for w in self.workers],
                                    data_dir=self.data_dir),
                  nginx.local_block(block, port=self.baseline_port, upstream="baseline",
                                    workers=[b.port for b in self.baselines],
                                    data_dir=self.data_dir, with_map=False)]
        cache = self.data_dir.resolve() / "cache" / "pages"
        static = (f"    server {{\n        listen 127.0.0.1:{self.static_port} backlog=4096;\n"
                  f"        location /static/ {{ alias {cache}/; sendfile on; tcp_nopush on; }}\n"
                  f"        location /static-open/ {{ alias {cache}/; sendfile on; tcp_nopush on;\n"
                  "            open_file_cache max=20000 inactive=30s; }\n"
                  "    }\n")
        self.proxy = nginx.Nginx(self.run_dir / "nginx").start(
            nginx.main_config(self.run_dir / "nginx", blocks, static), self.port)
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def baseline_url(self) -> str:
        return f"http://127.0.0.1:{self.baseline_port}"

    @property
    def static_url(self) -> str:
        return f"http://127.0.0.1:{self.static_port}/static/"

    def spread(self, baseline: bool = False) -> list[int]:
        """Connections nginx holds to each worker: each tablet's socket, and idle keep-alive
        connections (up to 32 per nginx worker process) left by HTTP requests."""
        return [established(s.port) for s in (self.baselines if baseline else self.workers)]

    def rss_kib(self, baseline: bool = False) -> list[int]:
        return [rss_kib(s.process.pid) for s in (self.baselines if baseline else self.workers)]

    def healthy(self) -> bool:
        return requests.get(self.url + "/healthz", timeout=5).ok

    def stop(self) -> None:
        if self.proxy:
            self.proxy.stop()
        for server in [*self.workers, *self.baselines]:
            server.stop()


def check_file_limit(tablets: int) -> int:
    """Raise the soft limit on open files as far as allowed; stop with a clear message when
    it stays below what ``tablets`` need (nginx holds two descriptors per tablet)."""
    from server.cli.serve import raise_file_limit

    needed = max(4096, 2 * tablets + 1024)
    try:
        return raise_file_limit(minimum=needed)
    except Exception as exc:  # click.ClickException: its message says how to raise it
        raise SystemExit(f"bench.topology: {getattr(exc, 'message', exc)} "
                         f"({tablets} tablets need {needed} descriptors)") from None


def fleet_for(topo: Topology, seeded, processes: int, **kwargs) -> TabletFleet:
    tokens = seeded.tablet_tokens
    fleet = TabletFleet(topo.url, [{"token": t} for t in tokens], processes,
                        meeting_id=seeded.meeting_id, sources=source_addresses(len(tokens)), **kwargs)
    fleet.wait_ready()
    return fleet


def chair_of(topo: Topology, seeded, source: str | None = None) -> socketio.Client:
    """The chair's connection through nginx; from ``source`` (a loopback address), a socket
    of its own that is not reconnected."""
    if source is None:
        chair = socketio.Client(reconnection=True, reconnection_delay=0.5)
    else:
        bound = socket.create_connection(("127.0.0.1", topo.port), source_address=(source, 0))
        chair = socketio.Client(reconnection=False, websocket_extra_options={"socket": bound})
    chair.connect(topo.url, auth={"token": seeded.chair_token}, transports=["websocket"])
    return chair


def set_item(chair: socketio.Client, seeded, n: int, timeout: float = 30) -> int:
    ack = chair.call("item.set", {"meeting_id": seeded.meeting_id,
                                  "item_id": seeded.item_ids[n % len(seeded.item_ids)]},
                     timeout=timeout)
    if not (isinstance(ack, dict) and ack.get("ok")):
        raise RuntimeError(f"item.set refused: {ack}")
    return ack.get("revision", 0)
