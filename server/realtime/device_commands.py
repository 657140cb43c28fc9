"""Socket commands a paired tablet sends about itself: its battery and connection, and
the confirmation of a remote wipe (docs/PROTOCOL.md §2)."""
from __future__ import annotations

from server.extensions import socketio
from server.realtime.commands import command
from server.schemas import realtime as schemas
from server.services.devices import devices


@command("device.status", schemas.DeviceStatus)
def report_status(actor, context, data):
    _, stored = devices.report_status(actor, data.meeting_id, data.battery, data.charging,
                                      data.connection or None)
    answer = {"stored": stored}
    if not stored:
        answer["retry_after"] = int(devices.STATUS_INTERVAL.total_seconds())
    return answer


@command("device.wiped", schemas.Command)
def confirm_wipe(actor, context, data):
    device = devices.confirm_wipe(actor, data.meeting_id)
    return {"wiped_at": devices.wipe_payload(device)["wiped_at"]}


def send_wipe_later(sid: str, device_id: int, delay: float = 0.3) -> None:
    """Send ``wipe`` to a connection that has just connected with a wipe still unconfirmed.

    From a background task, once the connect handler has returned: a message sent from
    inside it could reach the client ahead of the connection's acceptance.
    """
    def later():
        socketio.sleep(delay)
        socketio.emit("wipe", {"device_id": device_id}, to=sid)

    socketio.start_background_task(later)
