"""Tablets that follow docs/PROTOCOL.md §4 (revision, buffer, gap, sync) and can be knocked off.

The test thread drives them; socket callbacks only record revisions, never
call the server (a call from the read loop would wait for itself).
"""
from __future__ import annotations

import threading
import time

import socketio

from tests.realtime.clients import USER_AGENT


class Tablet:
    def __init__(self, url: str, token: str, meeting_id: int):
        self.url, self.token, self.meeting_id = url, token, meeting_id
        self.revision: int | None = None
        self.buffer: set[int] = set()
        self.gap_since: float | None = None
        self.lock = threading.RLock()  # one socket operation at a time
        self._state = threading.Lock()
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("event", lambda data: self._heard([data["revision"]]))
        self.sio.on("revision", lambda data: self._heard(data.get("revisions") or [data["revision"]]))
        self.drops = 0

    # -- what the server says ------------------------------------------------------
    def _heard(self, revisions) -> None:
        with self._state:
            self.buffer.update(r for r in revisions if self.revision is None or r > self.revision)
            self._drain()

    def _drain(self) -> None:
        if self.revision is None:
            return
        while self.revision + 1 in self.buffer:
            self.revision += 1
            self.buffer.discard(self.revision)
        self.buffer = {r for r in self.buffer if r > self.revision}
        self.gap_since = (self.gap_since or time.monotonic()) if self.buffer else None

    # -- what the tablet does -------------------------------------------------------
    @property
    def connected(self) -> bool:
        return self.sio.connected

    def connect(self) -> None:
        with self.lock:
            if not self.sio.connected:
                self.sio.connect(self.url, auth={"token": self.token}, transports=["websocket"],
                                 headers={"User-Agent": USER_AGENT}, wait_timeout=10)
            self.sync()

    def sync(self) -> None:
        with self.lock:
            data = {"meeting_id": self.meeting_id}
            if self.revision is not None:
                data["since_revision"] = self.revision
            answer = self.sio.call("sync", data, timeout=15)
            assert answer["ok"], answer
            with self._state:
                self.revision = max(self.revision or 0, answer["revision"])
                self._drain()

    def drop(self) -> None:
        with self.lock:
            self.drops += 1
            if self.sio.connected:
                self.sio.disconnect()

    def tend(self, gap_patience: float = 1.0) -> None:
        """Reconnect if cut off, and sync if a revision has been missing for a while."""
        try:
            if not self.sio.connected:
                self.connect()
            elif self.gap_since and time.monotonic() - self.gap_since > gap_patience:
                self.sync()
        except (socketio.exceptions.SocketIOError, OSError):
            pass  # the server is away; try again on the next round

    def call(self, event: str, data: dict, timeout: float = 15):
        with self.lock:
            return self.sio.call(event, data, timeout=timeout)

    def close(self) -> None:
        with self.lock:
            if self.sio.connected:
                self.sio.disconnect()


def cast_until_acknowledged(tablet: Tablet, poll_id: int, ballot_id: str, choice: str,
                            deadline: float) -> dict:
    """Send the same ballot (same id) until the server acknowledges it, as the tablet app does."""
    last = None
    while time.monotonic() < deadline:
        try:
            if not tablet.connected:
                tablet.connect()
            answer = tablet.call("ballot.cast", {"meeting_id": tablet.meeting_id, "poll_id": poll_id,
                                                 "ballot_id": ballot_id, "choices": [choice]},
                                 timeout=10)
            if answer.get("ok"):
                return answer
            last = answer
            if answer["error"]["code"] not in ("too_many_requests", "internal_error"):
                raise AssertionError(f"ballot refused: {answer}")
        except (socketio.exceptions.SocketIOError, OSError) as exc:
            last = exc
        time.sleep(0.3)
    raise AssertionError(f"ballot {ballot_id} never acknowledged: {last}")
