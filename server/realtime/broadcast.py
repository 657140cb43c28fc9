"""The one place that emits meeting state: committed MeetingEvents, to the right rooms.

Registered with ``events.on_committed`` so nothing is emitted before the
commit that makes it real. With a message queue (Redis) the emit reaches
clients connected to every worker.

Revisions are per meeting and some events are for staff or one participant
only. So that every client learns of every revision, clients outside the
audience get a ``revision`` tick instead of the event (gathered, see ticks.py);
a client left with a revision gap it cannot fill knows it missed something and syncs.
"""
from __future__ import annotations

import logging
import time

from server.extensions import socketio
from server.monitoring import metrics
from server.models import MeetingEvent
from server.realtime import context, ticks
from server.realtime.sync import event_message
from server.services import events
from server.services.consultations import notices

log = logging.getLogger(__name__)


def audience_room(event: MeetingEvent) -> str:
    if event.audience == "all":
        return context.meeting_room(event.meeting_id)
    if event.audience == "staff":
        return context.staff_room(event.meeting_id)
    kind, _, ident = event.audience.partition(":")
    if kind == "participant" and ident.isdigit():
        return context.participant_room(ident)
    raise ValueError(f"unknown audience {event.audience!r}")


def broadcast(committed: list[MeetingEvent]) -> None:
    """Emit each committed event, in revision order, to its audience, and a tick to the rest."""
    for event in sorted(committed, key=lambda e: (e.meeting_id, e.revision)):
        try:
            room = audience_room(event)
        except ValueError:
            log.error("event %s of meeting %s has audience %r; sent to nobody",
                      event.revision, event.meeting_id, event.audience)
            room = None
        if event.audience == "all":
            ticks.flush(event.meeting_id)  # the revisions before it go first
        if room is not None:
            socketio.emit("event", event_message(event), to=room)
            metrics.EVENTS_PUBLISHED.labels(event.type).inc()
            committed = getattr(event, "committed_monotonic", None)
            if committed is not None:
                metrics.BROADCAST_LAG.observe(time.monotonic() - committed)
        if event.audience != "all":
            # Queued after the event itself, so members of the audience see the
            # revision already applied and ignore the tick.
            ticks.queue(event.meeting_id, event.revision)
        if event.type == "device.revoked":
            # Not from inside this after-commit hook: disconnecting runs the disconnect
            # handler, which needs a database session of its own.
            socketio.start_background_task(cut_off_device, event.payload.get("device_id"))


def presence(connection: context.ConnectionContext, online: bool) -> None:
    """Tell staff a tablet came online or went offline (not a revisioned event: see attendance)."""
    if connection.participant_id is None:
        return
    socketio.emit("presence", {"meeting_id": connection.meeting_id,
                               "device_id": connection.device_id,
                               "participant_id": connection.participant_id, "online": online},
                  to=context.staff_room(connection.meeting_id))


def cut_off_device(device_id: int | None) -> None:
    """Tell a revoked device so, and close its connections held by this worker.

    Connections held by other workers are refused at their next event (every
    event reloads the device) and told by the ``revoked`` message.
    """
    if not device_id:
        return
    room = context.device_room(device_id)
    socketio.emit("revoked", {"device_id": device_id}, to=room)
    server = socketio.server
    for sid in [sid for sid, _ in server.manager.get_participants("/", room)]:
        server.disconnect(sid)


def consultation_notices(committed: list[notices.Notice]) -> None:
    """Emit committed consultation notices: progress to the office, each member its own view.

    Not meeting revisions (a consultation has no meeting): sent as ``consultation``
    messages, ``{"type": ..., "payload": ...}``; a client that missed one reads the REST API.
    """
    for notice in committed:
        socketio.emit("consultation", {"type": notice.type, "payload": notice.office},
                      to=context.OFFICE_ROOM)
        for user_id, view in notice.members.items():
            socketio.emit("consultation", {"type": notice.type, "payload": view},
                          to=context.account_room(user_id))
        metrics.EVENTS_PUBLISHED.labels(notice.type).inc()


# Registered once per process, at import: apps come and go in tests, the listener stays.
events.on_committed(broadcast)
notices.on_committed(consultation_notices)
