"""Pairing tablets to participants, projector display tokens, revocation.

A pairing code is one-time and expires: a random secret for the QR link and
a 6-digit PIN for typing, both stored only as keyed hashes. Wrong PINs count
against every live code, so guessing is bounded however many codes are out.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from server.errors import Conflict, InvalidInput, NotFound, TooManyRequests
from server.extensions import db
from server.models import Device, DeviceKind, PairingCode, Participant, utcnow
from server.services import access, audit, events
from server.services.access import Permission
from server.services.actors import Actor
from server.services.session import iso
from server.services.tokens import new_token, token_digest

CODE_TTL = timedelta(minutes=10)
# After this many wrong PINs (anywhere) a code no longer pairs by PIN; its QR still works.
MAX_PIN_FAILURES = 20


def _keyed(value: str) -> str:
    """HMAC under the secret key: a leaked table does not give away 6-digit PINs."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def _live_codes():
    return (PairingCode.used_at.is_(None), PairingCode.expires_at > utcnow())


def device_payload(device: Device) -> dict:
    return {
        "device_id": device.id,
        "meeting_id": device.meeting_id,
        "kind": device.kind.value,
        "participant_id": device.participant_id,
        "label": device.label,
        "paired_at": iso(device.paired_at),
        "last_seen_at": iso(device.last_seen_at),
        "online": device.connections > 0,
        "revoked_at": iso(device.revoked_at),
    }


def create_pairing_code(actor: Actor, meeting_id: int, participant_id: int,
                        ttl: timedelta = CODE_TTL) -> tuple[PairingCode, str, str]:
    """A new code for one participant; returns (code row, QR secret, PIN), shown once."""
    meeting = access.get_meeting(meeting_id, actor, Permission.RUN)
    participant = db.session.get(Participant, participant_id)
    if participant is None or participant.meeting_id != meeting.id:
        raise NotFound("No such participant in this meeting.",
                       fields={"participant_id": "unknown participant"})
    secret = secrets.token_urlsafe(24)
    for _ in range(20):  # a PIN must identify one live code
        pin = f"{secrets.randbelow(10**6):06d}"
        taken = db.session.scalar(select(PairingCode.id).where(
            PairingCode.pin_sha256 == _keyed(pin), *_live_codes()))
        if taken is None:
            break
    else:
        raise Conflict("Too many pairing codes are live; try again shortly.", code="pin_space")
    now = utcnow()
    code = PairingCode(meeting_id=meeting.id, participant_id=participant.id,
                       secret_sha256=token_digest(secret), pin_sha256=_keyed(pin),
                       created_at=now, expires_at=now + ttl)
    db.session.add(code)
    db.session.flush()
    audit.record("device.pairing_code", "participant", participant.id, actor=actor,
                 meeting_id=meeting.id, payload={"pairing_code_id": code.id})
    return code, secret, pin


def pair(*, code: str | None = None, pin: str | None = None, label: str = "",
         user_agent: str = "") -> tuple[Device, str]:
    """Pair a tablet with a QR secret or a PIN; returns (device, token), the token shown once.

    The code is used up atomically, so two tablets racing with one code get one
    device between them. Earlier tablets of the same participant are revoked:
    a delegate holds one tablet, and a re-pair usually replaces a lost one.
    """
    if bool(code) == bool(pin):
        raise InvalidInput("Give either the code or the PIN.", fields={"code": "code or pin"})
    if code:
        found = db.session.scalar(select(PairingCode).where(
            PairingCode.secret_sha256 == token_digest(code), *_live_codes()))
    else:
        found = db.session.scalar(select(PairingCode).where(
            PairingCode.pin_sha256 == _keyed(pin), PairingCode.failed_attempts < MAX_PIN_FAILURES,
            *_live_codes()))
        if found is None:
            _count_pin_failure()
    if found is None:
        raise NotFound("This pairing code is wrong, used or expired. Ask the secretary for a new one.",
                       code="invalid_pairing_code")
    claimed = db.session.execute(update(PairingCode).where(
        PairingCode.id == found.id, PairingCode.used_at.is_(None)).values(used_at=utcnow()))
    if claimed.rowcount != 1:
        raise NotFound("This pairing code has just been used.", code="invalid_pairing_code")
    now = utcnow()
    previous = list(db.session.scalars(select(Device).where(
        Device.participant_id == found.participant_id, Device.revoked_at.is_(None))))
    token = new_token()
    device = Device(meeting_id=found.meeting_id, participant_id=found.participant_id,
                    kind=DeviceKind.TABLET, token_sha256=token_digest(token),
                    label=label[:200], user_agent=user_agent[:500], paired_at=now)
    db.session.add(device)
    db.session.flush()
    audit.record("device.pair", "device", device.id, actor=Actor.of_device(device),
                 meeting_id=device.meeting_id,
                 payload={"participant_id": device.participant_id, "by": "qr" if code else "pin",
                          "replaces": [old.id for old in previous]})
    for old in previous:
        old.revoked_at = now
        events.publish(old.meeting_id, "device.revoked", device_payload(old), audience="staff")
    events.publish(device.meeting_id, "device.paired", device_payload(device), audience="staff")
    return device, token


def _count_pin_failure() -> None:
    """A wrong PIN counts against every live code, in its own transaction."""
    db.session.execute(update(PairingCode).where(*_live_codes())
                       .values(failed_attempts=PairingCode.failed_attempts + 1))
    db.session.commit()
    exhausted = db.session.scalar(select(PairingCode.id).where(
        PairingCode.failed_attempts >= MAX_PIN_FAILURES, *_live_codes()).limit(1))
    if exhausted is not None:
        raise TooManyRequests("Too many wrong PINs: scan the QR code or ask for a new code.")


def create_projector(actor: Actor, meeting_id: int, label: str = "") -> tuple[Device, str]:
    """A read-only display token for the room's projector; returns (device, token)."""
    meeting = access.get_meeting(meeting_id, actor, Permission.RUN)
    token = new_token()
    device = Device(meeting_id=meeting.id, kind=DeviceKind.PROJECTOR, participant_id=None,
                    token_sha256=token_digest(token), label=label[:200] or "Projector")
    db.session.add(device)
    db.session.flush()
    audit.record("device.projector", "device", device.id, actor=actor, meeting_id=meeting.id)
    events.publish(meeting.id, "device.paired", device_payload(device), audience="staff")
    return device, token


def list_devices(actor: Actor, meeting_id: int) -> list[Device]:
    meeting = access.get_meeting(meeting_id, actor, Permission.RUN)
    return list(db.session.scalars(
        select(Device).where(Device.meeting_id == meeting.id).order_by(Device.id)))


def revoke(actor: Actor, device_id: int) -> Device:
    """Unpair a tablet or retire a projector: its token stops working at once."""
    device = db.session.get(Device, device_id)
    if device is None:
        raise NotFound("No such device.")
    access.get_meeting(device.meeting_id, actor, Permission.RUN)
    if device.revoked_at is not None:
        return device
    audit.record("device.revoke", "device", device.id, actor=actor, meeting_id=device.meeting_id)
    device.revoked_at = utcnow()
    events.publish(device.meeting_id, "device.revoked", device_payload(device), audience="staff")
    return device
