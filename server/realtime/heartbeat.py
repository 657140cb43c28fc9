"""A periodic reminder of each meeting's revision to this worker's own connections.

An event can fail to reach a client without anybody noticing: with several workers,
python-socketio drops a publish that fails while Redis is down, and a change made then
is committed but never delivered to the other workers' clients. Events carry their
revision, so a client spots such a loss at the next event, but a meeting may go quiet.
Every ``HEARTBEAT_SECONDS`` (10 by default) each worker tells its own clients (bypassing the message
queue) the current revision of their meeting; a client behind it syncs
(docs/PROTOCOL.md, ``heartbeat``). It names no event, so it can never be mistaken for one.
"""
from __future__ import annotations

import logging

from sqlalchemy import select

from server.extensions import db, socketio
from server.models import Meeting
from server.realtime import context

log = logging.getLogger(__name__)

def beat_once() -> int:
    """Send one heartbeat to every meeting with a connection here; returns how many."""
    meeting_ids = {c.meeting_id for c in list(context._contexts.values())}
    if not meeting_ids:
        return 0
    try:
        rows = db.session.execute(select(Meeting.id, Meeting.revision)
                                  .where(Meeting.id.in_(meeting_ids))).all()
    finally:
        db.session.remove()
    for meeting_id, revision in rows:
        socketio.server.emit("heartbeat", {"meeting_id": meeting_id, "revision": revision},
                             to=context.meeting_room(meeting_id), ignore_queue=True)
    return len(rows)


def run_forever(app) -> None:
    interval = max(float(app.config["HEARTBEAT_SECONDS"]), 0.1)
    while True:
        socketio.sleep(interval)
        try:
            with app.app_context():
                beat_once()
        except Exception:  # the database may be down for a while: try again next time
            log.warning("heartbeat skipped", exc_info=True)
