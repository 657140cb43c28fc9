"""Revision ticks: telling everyone outside an event's audience that its revision exists.

Private events (a delegate's annotation, a staff notice) would otherwise cost
a message to every tablet of the meeting each. Ticks are therefore gathered
per meeting and sent together: at the latest ``DELAY`` seconds after the
first, and always just before the meeting's next event for everyone, so that
event never arrives ahead of the revisions before it.
"""
from __future__ import annotations

import threading

from server.extensions import socketio
from server.realtime.context import meeting_room

DELAY = 0.25  # seconds; clients wait longer than this before treating a gap as a loss

_pending: dict[int, list[int]] = {}
_lock = threading.Lock()


def queue(meeting_id: int, revision: int) -> None:
    """Tick ``revision`` to the whole meeting soon."""
    with _lock:
        first = meeting_id not in _pending
        _pending.setdefault(meeting_id, []).append(revision)
    if first:
        socketio.start_background_task(_flush_later, meeting_id)


def _flush_later(meeting_id: int) -> None:
    socketio.sleep(DELAY)
    flush(meeting_id)


def flush(meeting_id: int) -> None:
    """Send the gathered ticks of the meeting now (nothing if there are none)."""
    with _lock:
        revisions = _pending.pop(meeting_id, None)
    if revisions:
        revisions.sort()
        socketio.emit("revision", {"meeting_id": meeting_id, "revision": revisions[-1],
                                   "revisions": revisions}, to=meeting_room(meeting_id))


def forget_all() -> None:
    """Drop every gathered tick: for a new app in the same process (the test suite), whose
    meetings may reuse the ids of the previous app's."""
    with _lock:
        _pending.clear()
