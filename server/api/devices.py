"""REST endpoints: pairing codes, pairing a tablet, projector tokens, unpairing, remote wipe,
door check-in."""
from __future__ import annotations

from flask import jsonify, request

from server.api.blueprint import bp
from server.api.spec import endpoint
from server.auth import current_actor
from server.errors import NotAuthenticated
from server.extensions import csrf, db
from server.schemas.realtime import (
    AttendanceOut, CheckInIn, DeviceOut, DeviceTokenOut, DoorTokenOut, PairIn, PairingCodeOut,
    ProjectorIn,
)
from server.services.devices import devices
from server.services.session import attendance

RUNNERS = "admins and secretaries, and the meeting's chair and secretary"


def _answer(model, status: int = 200):
    if isinstance(model, list):
        return jsonify([m.model_dump(mode="json") for m in model]), status
    return jsonify(model.model_dump(mode="json")), status


def _device_out(device) -> DeviceOut:
    return DeviceOut.model_validate(devices.device_payload(device))


@bp.post("/meetings/<int:meeting_id>/participants/<int:participant_id>/pairing-code")
@endpoint("Create a one-time pairing code (QR secret and PIN) for a participant's tablet",
          tag="devices", response=PairingCodeOut, status=201, errors=(404,), auth=RUNNERS)
def create_pairing_code(meeting_id: int, participant_id: int):
    code, secret, pin = devices.create_pairing_code(current_actor(), meeting_id, participant_id)
    db.session.commit()
    return _answer(PairingCodeOut(
        pairing_code_id=code.id, participant_id=participant_id, code=secret, pin=pin,
        expires_at=code.expires_at, pair_path=f"/tablet/#pair={secret}"), 201)


@bp.post("/pair")
# Exempt from CSRF: the tablet has no session; the code or PIN is the credential.
@csrf.exempt
@endpoint("Pair a tablet with a pairing code or PIN; answers its device token, shown once",
          tag="devices", body=PairIn, response=DeviceTokenOut, status=201, auth="public",
          errors=(404, 429))
def pair(body: PairIn):
    device, token = devices.pair(code=body.code, pin=body.pin, label=body.label,
                                 user_agent=request.headers.get("User-Agent", ""))
    db.session.commit()
    return _answer(DeviceTokenOut(device=_device_out(device), token=token), 201)


@bp.get("/meetings/<int:meeting_id>/devices")
@endpoint("List the tablets and projectors of a meeting", tag="devices",
          response=list[DeviceOut], errors=(404,), auth=RUNNERS)
def list_devices(meeting_id: int):
    return _answer([_device_out(d) for d in devices.list_devices(current_actor(), meeting_id)])


@bp.delete("/devices/<int:device_id>")
@endpoint("Unpair a tablet or retire a projector; its token stops working at once",
          tag="devices", status=204, errors=(404,), auth=RUNNERS)
def revoke_device(device_id: int):
    devices.revoke(current_actor(), device_id)
    db.session.commit()
    return "", 204


@bp.post("/devices/<int:device_id>/wipe")
@endpoint("Ask a tablet to delete its confidential pages and annotations (remote wipe); "
          "the tablet confirms over its socket (device.wiped)",
          tag="devices", response=DeviceOut, status=202, errors=(404, 409), auth=RUNNERS)
def wipe_device(device_id: int):
    device = devices.request_wipe(current_actor(), device_id)
    db.session.commit()
    return _answer(_device_out(device), 202)


@bp.post("/meetings/<int:meeting_id>/projectors")
@endpoint("Create a read-only display token for the room's projector", tag="devices",
          body=ProjectorIn, response=DeviceTokenOut, status=201, errors=(404,), auth=RUNNERS)
def create_projector(meeting_id: int, body: ProjectorIn):
    device, token = devices.create_projector(current_actor(), meeting_id, body.label)
    db.session.commit()
    return _answer(DeviceTokenOut(device=_device_out(device), token=token), 201)


@bp.post("/meetings/<int:meeting_id>/door-token")
@endpoint("Create the door QR token for check-in; a new one replaces the old", tag="devices",
          response=DoorTokenOut, status=201, errors=(404,), auth=RUNNERS)
def create_door_token(meeting_id: int):
    token = attendance.create_door_token(current_actor(), meeting_id)
    db.session.commit()
    return _answer(DoorTokenOut(meeting_id=meeting_id, token=token), 201)


@bp.post("/meetings/<int:meeting_id>/check-in")
# Exempt from CSRF: only a bearer device token is accepted here, never the cookie.
@csrf.exempt
@endpoint("Check the tablet's delegate in with the door QR token", tag="devices",
          body=CheckInIn, response=AttendanceOut, errors=(404, 409),
          auth="a paired tablet (Authorization: Bearer <device token>)")
def check_in(meeting_id: int, body: CheckInIn):
    actor = current_actor()
    if actor is None or actor.kind != "device":
        raise NotAuthenticated("Send the tablet's device token.")
    participant = attendance.check_in(actor, meeting_id, body.door_token)
    db.session.commit()
    return _answer(AttendanceOut.model_validate(attendance.participant_payload(participant)))
