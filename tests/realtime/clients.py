"""Real Socket.IO clients for live-server tests, and logging in over real HTTP.

A ``LiveClient`` records everything the server sends and follows the client
contract of docs/PROTOCOL.md: it keeps the meeting's revision and notices a
jump (a missed revision).
"""
from __future__ import annotations

import threading
import time

import requests
import socketio

from tests import factories

USER_AGENT = "hemicycle-tests/1"  # the same for HTTP and sockets: sessions are bound to it


def login(base_url: str, user, password: str = factories.PASSWORD) -> requests.Session:
    """Log in through the real endpoint, as a browser would; the session sends the CSRF token."""
    http = requests.Session()
    http.headers["User-Agent"] = USER_AGENT
    response = http.post(base_url + "/api/v1/auth/login",
                         json={"username": user.username, "password": password}, timeout=10)
    assert response.status_code == 200, response.text
    http.headers["X-CSRFToken"] = response.json()["csrf_token"]
    return http


def login_cookie(base_url: str, user, password: str = factories.PASSWORD) -> str:
    """Log in through the real endpoint; return the Cookie header of the session."""
    http = login(base_url, user, password)
    return "; ".join(f"{c.name}={c.value}" for c in http.cookies)


class LiveClient:
    def __init__(self, base_url: str, *, auth: dict | None = None, cookie: str | None = None):
        self.base_url = base_url
        self.auth = auth
        self.headers = {"User-Agent": USER_AGENT}
        if cookie:
            self.headers["Cookie"] = cookie
        self.sio = socketio.Client(reconnection=False)
        self.received: list[tuple[str, dict]] = []
        self.connect_error = None
        self.disconnected = threading.Event()
        self._lock = threading.Lock()
        for name in ("event", "revision", "revoked", "presence", "heartbeat", "session.ended",
                     "consultation"):
            self.sio.on(name, self._recorder(name))
        self.sio.on("connect_error", self._on_connect_error)
        self.sio.on("disconnect", lambda *args: self.disconnected.set())

    def _recorder(self, name):
        def record(data):
            with self._lock:
                self.received.append((name, data))
        return record

    def _on_connect_error(self, data=None):
        self.connect_error = data

    def connect(self) -> "LiveClient":
        self.disconnected.clear()
        self.sio.connect(self.base_url, auth=self.auth, headers=self.headers,
                         transports=["websocket"], wait_timeout=10)
        return self

    def close(self) -> None:
        if self.sio.connected:
            self.sio.disconnect()

    def call(self, event: str, *data, timeout: float = 15):
        return self.sio.call(event, *data, timeout=timeout) if data else \
            self.sio.call(event, timeout=timeout)

    def events(self, type: str | None = None) -> list[dict]:
        with self._lock:
            return [d for n, d in self.received if n == "event" and (type is None or d["type"] == type)]

    def consultations(self, type: str | None = None) -> list[dict]:
        """The ``consultation`` messages received (written consultations: no meeting)."""
        with self._lock:
            return [d for n, d in self.received
                    if n == "consultation" and (type is None or d["type"] == type)]

    def wait_for_consultation(self, type: str, count: int = 1, **match) -> list[dict]:
        def found():
            hits = [m for m in self.consultations(type)
                    if all(m["payload"].get(k) == v for k, v in match.items())]
            return hits if len(hits) >= count else None
        return self.wait_for(found, what=f"consultation {type} {match}")

    def presence(self) -> list[dict]:
        with self._lock:
            return [d for n, d in self.received if n == "presence"]

    def revisions(self) -> list[int]:
        """Every revision this client was told about, as events or ticks, in arrival order."""
        told: list[int] = []
        with self._lock:
            for name, data in self.received:
                if name == "event":
                    told.append(data["revision"])
                elif name == "revision":
                    told.extend(data["revisions"])
        return told

    def wait_for(self, predicate, timeout: float = 20, what: str = "condition"):
        """Wait until ``predicate()`` holds (a deadline for slow machines, not a timing check)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.02)
        raise AssertionError(f"{what} did not happen; received: {self.received[-20:]}")

    def wait_for_event(self, type: str, count: int = 1, **match) -> list[dict]:
        def found():
            hits = [e for e in self.events(type)
                    if all(e["payload"].get(k) == v for k, v in match.items())]
            return hits if len(hits) >= count else None
        return self.wait_for(found, what=f"event {type} {match}")

    def __enter__(self):
        return self.connect()

    def __exit__(self, *exc):
        self.close()


def refused_reason(base_url: str, **kwargs) -> dict:
    """Try to connect and return the refusal the server gave (fails if it accepted)."""
    client = LiveClient(base_url, **kwargs)
    try:
        client.connect()
    except socketio.exceptions.ConnectionError:
        return client.connect_error or {}
    client.close()
    raise AssertionError("the server accepted the connection")
