"""Attendance and quorum: door check-in, tablet presence, the secretary's marks.

Every change publishes ``attendance.changed`` with the participant's new
status and the meeting's quorum, so the indicator on every screen is live.
"""
from __future__ import annotations

import hmac

from sqlalchemy import func, select, update

from server.errors import Conflict, Forbidden, InvalidInput, NotFound
from server.extensions import db
from server.models import (
    AttendanceStatus, Device, Meeting, MeetingRole, Participant, QuorumRule, SessionState, utcnow,
)
from server.services import access, audit, events
from server.services.access import Permission
from server.services.actors import Actor
from server.services.timestamps import iso
from server.services.tokens import new_token, token_digest

METHODS = ("door_qr", "manual", "tablet")


def required_present(rule: QuorumRule, members: int) -> int:
    """How many members with a voting right must be present for the rule to be met."""
    if rule == QuorumRule.NONE:
        return 0
    if rule == QuorumRule.MAJORITY:
        return members // 2 + 1  # more than half
    if rule == QuorumRule.TWO_THIRDS:
        return (2 * members + 2) // 3  # at least two thirds, rounded up
    return (3 * members + 3) // 4  # THREE_QUARTERS


def quorum(meeting: Meeting) -> dict:
    """Members with a voting right, how many of them are present, required, and reached."""
    voting = (Participant.meeting_id == meeting.id, Participant.voting_right.is_(True),
              Participant.role.in_((MeetingRole.CHAIR, MeetingRole.DELEGATE)))
    rows = db.session.execute(
        select(Participant.attendance, func.count()).where(*voting).group_by(Participant.attendance)
    ).all()
    counts = {status: count for status, count in rows}
    members = sum(counts.values())
    present = counts.get(AttendanceStatus.PRESENT, 0)
    required = required_present(meeting.quorum_rule, members)
    return {
        "rule": meeting.quorum_rule.value,
        "members": members,
        "present": present,
        "excused": counts.get(AttendanceStatus.EXCUSED, 0),
        "required": required,
        "reached": present >= required,
    }


def participant_payload(participant: Participant) -> dict:
    return {
        "participant_id": participant.id,
        "status": participant.attendance.value,
        "method": participant.attendance_method,
        "checked_in_at": iso(participant.checked_in_at),
        "excuse": participant.excuse,
    }


def _set(actor: Actor, participant: Participant, status: AttendanceStatus, method: str,
         excuse: str = "") -> Participant:
    audit.record(f"attendance.{status.value}", "participant", participant.id, actor=actor,
                 meeting_id=participant.meeting_id, payload={"method": method})
    participant.attendance = status
    participant.attendance_method = method
    participant.excuse = excuse if status == AttendanceStatus.EXCUSED else ""
    if status == AttendanceStatus.PRESENT:
        participant.checked_in_at = participant.checked_in_at or utcnow()
    else:
        participant.checked_in_at = None
    db.session.flush()
    meeting = db.session.get(Meeting, participant.meeting_id)
    events.publish(meeting.id, "attendance.changed",
                   {**participant_payload(participant), "quorum": quorum(meeting)})
    return participant


def mark(actor: Actor, meeting_id: int, participant_id: int, status: AttendanceStatus,
         excuse: str = "") -> Participant:
    """The secretary marks a participant present, absent or excused (with the excuse)."""
    meeting = access.get_meeting(meeting_id, actor, Permission.RUN)
    participant = db.session.get(Participant, participant_id)
    if participant is None or participant.meeting_id != meeting.id:
        raise NotFound("No such participant in this meeting.",
                       fields={"participant_id": "unknown participant"})
    if status == AttendanceStatus.EXCUSED and not excuse.strip():
        raise InvalidInput("Give the reason for the excuse.", fields={"excuse": "required"})
    return _set(actor, participant, status, "manual", excuse.strip())


def create_door_token(actor: Actor, meeting_id: int) -> str:
    """A new door QR token for the meeting (shown once); any previous one stops working."""
    meeting = access.get_meeting(meeting_id, actor, Permission.RUN)
    audit.record("attendance.door_token", "meeting", meeting.id, actor=actor, meeting_id=meeting.id)
    token = new_token()
    meeting.door_token_sha256 = token_digest(token)
    return token


def check_in(actor: Actor, meeting_id: int, door_token: str) -> Participant:
    """A paired tablet checks its delegate in by scanning the door QR code.

    Checking in twice is harmless: the second scan changes and publishes nothing.
    """
    meeting = access.get_meeting(meeting_id, actor, Permission.VIEW)
    participant = access.participant_of(actor, meeting)
    if actor.kind != "device" or participant is None:
        raise Forbidden("Check in from your paired tablet.", code="tablet_only")
    expected = meeting.door_token_sha256
    if not expected or not hmac.compare_digest(expected, token_digest(door_token)):
        raise InvalidInput("This is not the door code of this meeting.",
                           code="invalid_door_token", fields={"door_token": "wrong code"})
    if meeting.session_state == SessionState.ADJOURNED:
        raise Conflict("The session is over.", code="adjourned")
    if participant.attendance == AttendanceStatus.PRESENT:
        return participant
    return _set(actor, participant, AttendanceStatus.PRESENT, "door_qr")


def _count_connection(device: Device, step: int) -> int:
    """Add ``step`` to the device's open connections in one statement (workers race here)."""
    count = db.session.execute(
        update(Device).where(Device.id == device.id)
        .values(connections=Device.connections + step, last_seen_at=utcnow())
        .returning(Device.connections)
    ).scalar_one()
    if count < 0:  # a disconnect counted after a crash reset: never below zero
        db.session.execute(update(Device).where(Device.id == device.id).values(connections=0))
        count = 0
    db.session.refresh(device)
    return count


def tablet_connected(device: Device) -> bool:
    """Count a new connection of a tablet; report whether it came online.

    While the session is open or paused, a tablet that connects checks its
    delegate in, unless the secretary has marked them by hand. A dropped
    connection never checks anyone out: meeting-room Wi-Fi flickers, and a
    flicker must not break the quorum. The secretary records departures.

    Coming online is not a meeting event: after a server restart a thousand
    tablets reconnect, and a revisioned event each would cost every tablet a
    thousand messages. The caller tells staff (``presence`` messages) after commit.
    """
    participant = device.participant
    meeting = db.session.get(Meeting, device.meeting_id)
    if (participant is not None
            and meeting.session_state in (SessionState.OPEN, SessionState.PAUSED)
            and participant.attendance == AttendanceStatus.ABSENT
            and participant.attendance_method != "manual"):
        _set(Actor.of_device(device), participant, AttendanceStatus.PRESENT, "tablet")
    # Counted after the check-in: the audit lock comes before any row lock (see session.py).
    return _count_connection(device, +1) == 1


def tablet_disconnected(device: Device) -> bool:
    """Count a closed connection; report whether the tablet went offline."""
    return _count_connection(device, -1) == 0


def online_participants(meeting_id: int) -> list[int]:
    return list(db.session.scalars(
        select(Device.participant_id).where(
            Device.meeting_id == meeting_id, Device.participant_id.is_not(None),
            Device.revoked_at.is_(None), Device.connections > 0,
        ).distinct()
    ))
