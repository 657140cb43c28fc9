"""Run the real server as its own process, as a user would, for socket and browser tests.

The test process never imports eventlet; it seeds the same database through
the ORM (in an app context of its own) and talks to the server over HTTP and
Socket.IO.
"""
from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import requests

from server import create_app
from server.cli.database import upgrade
from server.extensions import db
from server.models import Base
from tests.conftest import test_config

ROOT = Path(__file__).resolve().parent.parent


def wait_until(predicate, timeout: float = 30, what: str = "condition", step: float = 0.2):
    """``predicate()``'s first true value, within a deadline for slow machines (not a timing
    check); AssertionError naming ``what`` when it never comes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"{what} did not happen within {timeout}s")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    def __init__(self, data_dir: Path, database_url: str, *, async_mode: str = "eventlet",
                 redis_url: str | None = None, port: int | None = None, env: dict | None = None):
        self.data_dir = Path(data_dir)
        self.database_url = database_url
        self.async_mode = async_mode
        self.redis_url = redis_url
        self.port = port or free_port()
        self.extra_env = env or {}
        self.process: subprocess.Popen | None = None
        self.log_path = self.data_dir / f"server-{self.port}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict:
        env = dict(os.environ)
        env.update({
            "HEMICYCLE_DATA_DIR": str(self.data_dir),
            "HEMICYCLE_DATABASE_URL": self.database_url,
            "HEMICYCLE_SECRET_KEY": "test-secret",  # as tests.conftest: both sides open sealed ballots
            "HEMICYCLE_ASYNC_MODE": self.async_mode,
            "HEMICYCLE_INSECURE_COOKIES": "1",
            "PYTHONWARNINGS": "ignore::DeprecationWarning",
        })
        env.pop("HEMICYCLE_REDIS_URL", None)
        if self.redis_url:
            env["HEMICYCLE_REDIS_URL"] = self.redis_url
        env.update(self.extra_env)
        return env

    def start(self, timeout: float = 30) -> "LiveServer":
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "server", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=ROOT, env=self.env(), stdout=log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}:\n{self.log()}")
            try:
                if requests.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not answer /healthz within {timeout}s:\n{self.log()}")

    def restarted(self, timeout: float = 30) -> "LiveServer":
        """A new process with the same settings, data and port, as after a crash or a reboot.

        This one is left as it is: kill or stop it first.
        """
        return LiveServer(self.data_dir, self.database_url, async_mode=self.async_mode,
                          redis_url=self.redis_url, port=self.port, env=self.extra_env
                          ).start(timeout)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:] if self.log_path.exists() else ""

    def kill(self) -> None:
        """kill -9: no chance to clean up, as in a power cut."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def hemicycle(env: dict, *args) -> subprocess.CompletedProcess:
    """The command line as an operator runs it, with a server's settings (``server.env()``)."""
    return subprocess.run([sys.executable, "-m", "server", *map(str, args)], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def ok_run(env: dict, *args) -> str:
    """``hemicycle(...)``'s output; AssertionError with everything it said unless it exits 0."""
    result = hemicycle(env, *args)
    assert result.returncode == 0, (f"hemicycle {' '.join(map(str, args))}:\n"
                                    f"{result.stdout}\n{result.stderr}")
    return result.stdout


class Workers(list):
    """The two servers of :func:`scaled_out`, and the Socket.IO channel they share."""

    def __init__(self, servers: list[LiveServer], channel: str):
        super().__init__(servers)
        self.channel = channel


@contextlib.contextmanager
def app_context_on(tmp_path: Path, database_url: str, *, migrate: bool = False) -> Iterator[None]:
    """An app context on the servers' database, pushed in the test process so that it seeds
    and checks through the ORM what the servers see. The tables come from the models, or from
    the migrations when ``migrate``.
    """
    if migrate:
        upgrade(database_url)
    app = create_app(test_config(tmp_path, DATABASE_URL=database_url))
    context = app.app_context()
    context.push()
    try:
        if not migrate:
            Base.metadata.create_all(db.engine)
        yield
    finally:
        db.session.remove()
        db.engine.dispose()
        context.pop()


@contextlib.contextmanager
def scaled_out(tmp_path: Path, database_url: str, redis_url: str, *,
               migrate: bool = False) -> Iterator[Workers]:
    """Two workers (``python -m server serve``) on one database, passing events through Redis,
    as the scaled-out deployment runs, with an app context on that database (app_context_on).

    The workers get a Socket.IO channel of their own, so parallel runs sharing a Redis never
    cross. On the way out every server then in the list is stopped: a test that restarts a
    worker puts the new one in its place.
    """
    channel = f"hemicycle-test-{secrets.token_hex(6)}"
    workers = Workers([LiveServer(tmp_path / f"worker{n}", database_url, redis_url=redis_url,
                                  env={"HEMICYCLE_SOCKETIO_CHANNEL": channel}) for n in (1, 2)],
                      channel)
    with app_context_on(tmp_path, database_url, migrate=migrate):
        try:
            for worker in workers:
                worker.start()
            yield workers
        finally:
            for worker in workers:
                worker.stop()
