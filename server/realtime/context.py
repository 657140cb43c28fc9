"""Who is behind each connection of this worker, and how fast they may send.

A connection serves one meeting. Its context is kept in this process only
(each worker knows its own sockets) and is small: a tablet costs a few hundred bytes.

Limits are per **sender** (a device token, or a user account), shared by all of the
sender's connections on this worker, so opening more sockets buys nothing: at most
``MAX_CONNECTIONS`` of them at once, one token bucket for every event, and a slower one
for the changes they make.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

# Every event: a burst of BURST, then RATE per second, per sender. A sender that keeps
# sending into an empty bucket has the connection doing it cut off after ABUSE_LIMIT refusals.
RATE = 10.0
BURST = 30
ABUSE_LIMIT = 30
# Changes that were made (a refused command changes nothing and is not counted): a tablet's
# delegate asks for the floor or votes once in a while; staff mark a room's attendance quickly.
CHANGES = {"device": (1.0, 10), "projector": (1.0, 10), "user": (5.0, 30)}  # (rate, burst)
# Connections at once per sender on this worker: a tablet reconnecting after a Wi-Fi drop
# may still have its old socket open until engine.io's ping times it out.
MAX_CONNECTIONS = {"device": 3, "projector": 3, "user": 10}


class TokenBucket:
    __slots__ = ("rate", "capacity", "tokens", "stamp", "refused", "_lock")

    def __init__(self, rate: float = RATE, capacity: int = BURST):
        self.rate = rate
        self.capacity = capacity
        self.tokens = float(capacity)
        self.stamp = time.monotonic()
        self.refused = 0  # refusals since the bucket last had a token
        self._lock = threading.Lock()

    def _refill(self) -> None:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def take(self) -> bool:
        with self._lock:
            self._refill()
            if self.tokens >= 1:
                self.tokens -= 1
                self.refused = 0
                return True
            self.refused += 1
            return False

    def ready(self) -> bool:
        """Whether a token is there, without taking it (``spend`` once the work is done)."""
        with self._lock:
            self._refill()
            if self.tokens >= 1:
                self.refused = 0
                return True
            self.refused += 1
            return False

    def spend(self) -> None:
        """Take a token checked by ``ready``; concurrent work may leave a debt, repaid by time."""
        with self._lock:
            self._refill()
            self.tokens -= 1


class Sender:
    """One device or user on this worker: its connections and the buckets they share."""

    __slots__ = ("sids", "events", "changes")

    def __init__(self, kind: str):
        self.sids: list[str] = []
        self.events = TokenBucket()
        self.changes = TokenBucket(*CHANGES.get(kind, CHANGES["device"]))


@dataclass
class ConnectionContext:
    sid: str
    kind: str  # "user" | "device" | "projector"
    meeting_id: int
    user_id: int | None = None
    session_epoch: int | None = None
    login_id: int | None = None  # the login session its cookie carried (users only)
    device_id: int | None = None
    participant_id: int | None = None
    staff: bool = False  # holds STAFF_VIEW: receives staff-only events
    # Written consultations (no meeting): the account whose own consultations it hears
    # (a user, or a tablet's paired participant's account), and whether it is the office.
    account_id: int | None = None
    office: bool = False
    closing: Exception | None = None  # why it is being disconnected (revoked, flooding)
    sender: Sender = field(default_factory=lambda: Sender("device"))  # set by register()

    @property
    def sender_key(self) -> tuple[str, int | None]:
        if self.device_id is not None:
            return self.kind, self.device_id
        return "user", self.user_id

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
        if self.login_id is not None:
            rooms.append(login_room(self.login_id))
        if self.account_id is not None:
            rooms.append(account_room(self.account_id))
        if self.office:
            rooms.append(OFFICE_ROOM)
        return rooms


def meeting_room(meeting_id: int) -> str:
    return f"meeting:{meeting_id}"


def staff_room(meeting_id: int) -> str:
    return f"meeting:{meeting_id}:staff"


def participant_room(participant_id: int | str) -> str:
    return f"participant:{participant_id}"


def device_room(device_id: int) -> str:
    return f"device:{device_id}"


def login_room(login_id: int) -> str:
    return f"login:{login_id}"


def account_room(user_id: int) -> str:
    """An account's own written consultations, on every connection it holds."""
    return f"account:{user_id}"


OFFICE_ROOM = "consultations:office"  # secretaries and admins: answer progress
NO_MEETING = 0  # a connection that follows written consultations only, no meeting


_contexts: dict[str, ConnectionContext] = {}
_senders: dict[tuple[str, int | None], Sender] = {}
_MAX_IDLE_SENDERS = 10_000  # kept after their last socket closes, so reconnecting keeps the debt


def forget_senders() -> None:
    """Drop every sender's budget (tests: ids repeat across databases in one process)."""
    _senders.clear()


class TooManyConnections(Exception):
    """The sender already holds its ``MAX_CONNECTIONS`` on this worker."""


def register(context: ConnectionContext) -> None:
    """Count the connection against its sender; TooManyConnections past the limit."""
    key = context.sender_key
    sender = _senders.get(key)
    if sender is None:
        if len(_senders) > _MAX_IDLE_SENDERS:
            for idle in [k for k, v in _senders.items() if not v.sids]:
                del _senders[idle]
        sender = _senders[key] = Sender(key[0])
    if len(sender.sids) >= MAX_CONNECTIONS.get(key[0], MAX_CONNECTIONS["device"]):
        raise TooManyConnections(key)
    sender.sids.append(context.sid)
    context.sender = sender
    _contexts[context.sid] = context


def get(sid: str) -> ConnectionContext | None:
    return _contexts.get(sid)


def forget(sid: str) -> ConnectionContext | None:
    context = _contexts.pop(sid, None)
    if context is not None and sid in context.sender.sids:
        context.sender.sids.remove(sid)
    return context


def connection_counts() -> dict[tuple[str, int], int]:
    """(kind, meeting id) -> connections held by this process, for /metrics."""
    counts: dict[tuple[str, int], int] = {}
    for connection in list(_contexts.values()):
        key = (connection.kind, connection.meeting_id)
        counts[key] = counts.get(key, 0) + 1
    return counts
