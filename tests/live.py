"""Run the real server as its own process, as a user would, for socket and browser tests.

The test process never imports eventlet; it seeds the same database through
the ORM (in an app context of its own) and talks to the server over HTTP and
Socket.IO.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent


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
            "HEMICYCLE_SECRET_KEY": "live-test-secret",
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
