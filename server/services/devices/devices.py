"""Pairing tablets to participants, projector display tokens, revocation.

A pairing code is one-time and expires: a random secret for the QR link and
a PIN for typing, both stored only as keyed hashes. The PIN names its code, ``27-482913``
(the code's number, then 6 secret digits), so a wrong PIN counts against that code only:
guessing one code's PIN is bounded, and no guessing run disables the others.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
import time
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update

from server.errors import Conflict, Forbidden, InvalidInput, NotFound, TooManyRequests
from server.extensions import db, socketio
from server.models import Device, DeviceKind, PairingCode, Participant, utcnow
from server.services import access, audit, events
from server.services.access import Permission
from server.services.actors import Actor
from server.services.timestamps import iso
from server.services.tokens import new_token, token_digest

log = logging.getLogger(__name__)

CODE_TTL = timedelta(minutes=10)
# After this many wrong PINs naming it, a code no longer pairs by PIN; its QR still works.
MAX_PIN_FAILURES = 10
PIN_DIGITS = 6


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
        "wipe_requested_at": iso(device.wipe_requested_at),
        "wiped_at": iso(device.wiped_at),
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
    digits = f"{secrets.randbelow(10**PIN_DIGITS):0{PIN_DIGITS}d}"
    now = utcnow()
    code = PairingCode(meeting_id=meeting.id, participant_id=participant.id,
                       secret_sha256=token_digest(secret), pin_sha256=_keyed(digits),
                       created_at=now, expires_at=now + ttl)
    db.session.add(code)
    db.session.flush()
    audit.record("device.pairing_code", "participant", participant.id, actor=actor,
                 meeting_id=meeting.id, payload={"pairing_code_id": code.id})
    return code, secret, f"{code.id}-{digits}"


def _split_pin(pin: str) -> tuple[int, str] | None:
    """(code number, secret digits) of a typed PIN such as ``27-482913`` or ``27482913``."""
    digits = "".join(ch for ch in pin if ch.isdigit())
    if len(digits) <= PIN_DIGITS or len(digits) > PIN_DIGITS + 10:
        return None
    number = int(digits[:-PIN_DIGITS])
    return (number, digits[-PIN_DIGITS:]) if 1 <= number <= 2**31 - 1 else None


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
        found = _code_for_pin(pin)
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


def _code_for_pin(pin: str) -> PairingCode | None:
    """The live code a PIN names, if its digits are right; a wrong PIN counts against that
    code only (in its own transaction), and a code past its limit pairs by QR only."""
    split = _split_pin(pin)
    if split is None:
        return None
    number, digits = split
    code = db.session.scalar(select(PairingCode).where(PairingCode.id == number, *_live_codes()))
    if code is None:
        return None
    if code.failed_attempts >= MAX_PIN_FAILURES:
        raise TooManyRequests("Too many wrong PINs for this code: scan its QR code instead.")
    if hmac.compare_digest(code.pin_sha256, _keyed(digits)):
        return code
    db.session.execute(update(PairingCode).where(PairingCode.id == code.id)
                       .values(failed_attempts=PairingCode.failed_attempts + 1))
    db.session.commit()
    return None


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


# Remote wipe -------------------------------------------------------------------------

def wipe_pending(device: Device) -> bool:
    """A wipe was requested and the tablet has not confirmed it since."""
    return device.wipe_requested_at is not None and (
        device.wiped_at is None or device.wiped_at < device.wipe_requested_at)


def wipe_payload(device: Device) -> dict:
    return {"device_id": device.id, "participant_id": device.participant_id,
            "wipe_requested_at": iso(device.wipe_requested_at), "wiped_at": iso(device.wiped_at)}


def request_wipe(actor: Actor, device_id: int) -> Device:
    """The secretary asks one tablet to delete its confidential pages and annotations.

    The tablet is told by a ``device.wipe`` event for its participant (replayed
    when it reconnects) and, while the wipe is unconfirmed, by a ``wipe``
    message each time it connects; it confirms with the ``device.wiped`` command.
    """
    device = db.session.get(Device, device_id)
    if device is None:
        raise NotFound("No such device.")
    access.get_meeting(device.meeting_id, actor, Permission.RUN)
    if device.kind != DeviceKind.TABLET or device.participant_id is None:
        raise Conflict("Only a tablet can be wiped; retire a projector instead.",
                       code="not_a_tablet")
    if device.revoked_at is not None:
        raise Conflict("This tablet has been unpaired; it can no longer be reached.",
                       code="device_revoked")
    audit.record("device.wipe", "device", device.id, actor=actor, meeting_id=device.meeting_id,
                 payload={"participant_id": device.participant_id})
    device.wipe_requested_at = utcnow()
    events.publish(device.meeting_id, "device.wipe", wipe_payload(device),
                   audience=f"participant:{device.participant_id}")
    return device


def confirm_wipe(actor: Actor, meeting_id: int) -> Device:
    """The tablet says it has wiped; staff are told (``device.wiped``). Repeats change nothing."""
    device = _reporting_tablet(actor, meeting_id)
    if device.wipe_requested_at is None:
        raise Conflict("No wipe was requested for this tablet.", code="no_wipe_requested")
    if not wipe_pending(device):
        return device
    audit.record("device.wiped", "device", device.id, actor=actor, meeting_id=device.meeting_id)
    device.wiped_at = max(utcnow(), device.wipe_requested_at)
    events.publish(device.meeting_id, "device.wiped", device_payload(device), audience="staff")
    return device


def _reporting_tablet(actor: Actor, meeting_id: int) -> Device:
    """The sender's own tablet: only a paired tablet reports about itself."""
    if actor is None or actor.kind != "device" or actor.device is None:
        raise Forbidden("Only a paired tablet reports about itself.", code="tablet_only")
    device = actor.device
    if device.meeting_id != meeting_id:
        raise Forbidden("This tablet belongs to another meeting.", code="tablet_only")
    return device


# Battery and connection --------------------------------------------------------------

# A tablet's report is stored at most once per STATUS_INTERVAL; extra reports are ignored.
STATUS_INTERVAL = timedelta(seconds=30)
# Stored reports reach staff as one ``device.status`` event per meeting per this many
# seconds at most (config DEVICE_STATUS_EVENT_INTERVAL): a thousand tablets coming back
# after a restart cost staff a few events, and every other screen a few ticks, not a thousand.
STATUS_EVENT_INTERVAL = 2.0


def status_entry(device: Device) -> dict:
    return {"device_id": device.id, "participant_id": device.participant_id,
            "status": device.status or {}, "last_seen_at": iso(device.last_seen_at),
            "online": device.connections > 0}


class _StatusBatches:
    """Per meeting: the devices whose status changed, and when the last event went out."""

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self._dirty: dict[int, set[int]] = {}
        self._last: dict[int, float] = {}
        self._scheduled: set[int] = set()
        self._lock = threading.Lock()

    def add(self, meeting_id: int, device_id: int, interval: float) -> tuple[set[int] | None, float]:
        """(devices to publish now, 0) or (None, delay of a trailing event to schedule, or -1)."""
        with self._lock:
            dirty = self._dirty.setdefault(meeting_id, set())
            dirty.add(device_id)
            if meeting_id in self._scheduled:
                return None, -1.0
            now, last = self.clock(), self._last.get(meeting_id)
            if last is None or now - last >= interval:
                self._last[meeting_id] = now
                return self._dirty.pop(meeting_id), 0.0
            self._scheduled.add(meeting_id)
            return None, interval - (now - last)

    def take(self, meeting_id: int) -> set[int]:
        with self._lock:
            self._scheduled.discard(meeting_id)
            self._last[meeting_id] = self.clock()
            return self._dirty.pop(meeting_id, set())


status_batches = _StatusBatches()


def _publish_statuses(meeting_id: int, device_ids: set[int]) -> None:
    listed = db.session.scalars(select(Device).where(
        Device.id.in_(device_ids), Device.meeting_id == meeting_id).order_by(Device.id)).all()
    if listed:
        events.publish(meeting_id, "device.status",
                       {"devices": [status_entry(d) for d in listed]}, audience="staff")


def _publish_statuses_later(app, meeting_id: int, delay: float) -> None:
    socketio.sleep(delay)
    with app.app_context():
        try:
            device_ids = status_batches.take(meeting_id)
            if device_ids:
                _publish_statuses(meeting_id, device_ids)
                db.session.commit()
        except Exception:  # a lost status event must not kill the worker; the next one restates
            log.exception("device status of meeting %s not published", meeting_id)
            db.session.rollback()
        finally:
            db.session.remove()


def report_status(actor: Actor, meeting_id: int, battery: float | None, charging: bool | None,
                  connection: str | None, now: datetime | None = None) -> tuple[Device, bool]:
    """Store what the tablet's browser reports; returns (device, stored).

    At most one report per tablet per STATUS_INTERVAL is stored; earlier ones are
    ignored quietly (``stored`` False). Not audited: it is telemetry, not a decision.
    """
    device = _reporting_tablet(actor, meeting_id)
    now = now or utcnow()
    previous = (device.status or {}).get("reported_at")
    if previous:
        try:
            if now - datetime.fromisoformat(previous) < STATUS_INTERVAL:
                return device, False
        except (TypeError, ValueError):
            pass
    device.status = {"battery": battery, "charging": charging, "connection": connection,
                     "reported_at": iso(now)}
    device.last_seen_at = now
    db.session.flush()
    interval = current_app.config.get("DEVICE_STATUS_EVENT_INTERVAL", STATUS_EVENT_INTERVAL)
    now_ids, delay = status_batches.add(device.meeting_id, device.id, interval)
    if now_ids:
        _publish_statuses(device.meeting_id, now_ids)
    elif delay > 0:
        socketio.start_background_task(_publish_statuses_later,
                                       current_app._get_current_object(), device.meeting_id, delay)
    return device, True
