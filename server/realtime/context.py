"""Who is behind each connection of this worker, and how fast they may send.

A connection serves one meeting. Its context is kept in this process only
(each worker knows its own sockets) and is small: a tablet costs a few hundred bytes.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

# Token bucket: a burst of BURST events, then RATE per second. A connection
# that keeps sending into an empty bucket is cut off after ABUSE_LIMIT refusals.
RATE = 10.0
BURST = 30
ABUSE_LIMIT = 30


class TokenBucket:
    __slots__ = ("rate", "capacity", "tokens", "stamp", "refused", "_lock")

    def __init__(self, rate: float = RATE, capacity: int = BURST):
        self.rate = rate
        self.capacity = capacity
        self.tokens = float(capacity)
        self.stamp = time.monotonic()
        self.refused = 0  # refusals since the bucket last had a token
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            now = time.monotonic()
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            if self.tokens >= 1:
                self.tokens -= 1
                self.refused = 0
                return True
            self.refused += 1
            return False


@dataclass
class ConnectionContext:
    sid: str
    kind: str  # "user" | "device" | "projector"
    meeting_id: int
    user_id: int | None = None
    session_epoch: int | None = None
    device_id: int | None = None
    participant_id: int | None = None
    staff: bool = False  # holds STAFF_VIEW: receives staff-only events
    closing: Exception | None = None  # why it is being disconnected (revoked, flooding)
    bucket: TokenBucket = field(default_factory=TokenBucket)

    def may_see(self, audience: str) -> bool:
        """Whether an event for ``audience`` ("all", "staff", "participant:<id>") reaches this client."""
        if audience == "all":
            return True
        if audience == "staff":
            return self.staff
        kind, _, ident = audience.partition(":")
        return kind == "participant" and ident == str(self.participant_id)

    def rooms(self) -> list[str]:
        rooms = [meeting_room(self.meeting_id)]
        if self.staff:
            rooms.append(staff_room(self.meeting_id))
        if self.participant_id is not None:
            rooms.append(participant_room(self.participant_id))
        if self.device_id is not None:
            rooms.append(device_room(self.device_id))
        return rooms


def meeting_room(meeting_id: int) -> str:
    return f"meeting:{meeting_id}"


def staff_room(meeting_id: int) -> str:
    return f"meeting:{meeting_id}:staff"


def participant_room(participant_id: int | str) -> str:
    return f"participant:{participant_id}"


def device_room(device_id: int) -> str:
    return f"device:{device_id}"


_contexts: dict[str, ConnectionContext] = {}


def register(context: ConnectionContext) -> None:
    _contexts[context.sid] = context


def get(sid: str) -> ConnectionContext | None:
    return _contexts.get(sid)


def forget(sid: str) -> ConnectionContext | None:
    return _contexts.pop(sid, None)


def connection_counts() -> dict[tuple[str, int], int]:
    """(kind, meeting id) -> connections held by this process, for /metrics."""
    counts: dict[tuple[str, int], int] = {}
    for connection in list(_contexts.values()):
        key = (connection.kind, connection.meeting_id)
        counts[key] = counts.get(key, 0) + 1
    return counts
