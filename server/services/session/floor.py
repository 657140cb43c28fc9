"""The floor: delegates ask to speak, the chair grants, reorders and ends speeches.

Each request is a SpeakerRequest; once granted it records the speech (who,
which item, start, end, time limit). Every change publishes ``floor.changed``
with the whole queue and the current speech, so a client simply replaces its copy.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from server.errors import Conflict, Forbidden, InvalidInput, NotFound
from server.extensions import db
from server.models import Meeting, SessionState, SpeakerRequest, SpeakerStatus, utcnow
from server.services import access, audit, events
from server.services.access import Permission
from server.services.actors import Actor
from server.services.timestamps import iso

MAX_SPEAKING_SECONDS = 4 * 3600


def _speech_payload(request: SpeakerRequest) -> dict:
    ends_at = None
    if request.started_at is not None and request.time_limit_seconds:
        ends_at = request.started_at + timedelta(seconds=request.time_limit_seconds)
    return {
        "request_id": request.id,
        "participant_id": request.participant_id,
        "name": request.participant.full_name,
        "agenda_item_id": request.agenda_item_id,
        "status": request.status.value,
        "position": request.queue_position,
        "requested_at": iso(request.requested_at),
        "started_at": iso(request.started_at),
        "time_limit_seconds": request.time_limit_seconds,
        "ends_at": iso(ends_at),  # clients count down to this
    }


def _open_requests(meeting_id: int, status: SpeakerStatus) -> list[SpeakerRequest]:
    return list(db.session.scalars(
        select(SpeakerRequest)
        .where(SpeakerRequest.meeting_id == meeting_id, SpeakerRequest.status == status)
        .order_by(SpeakerRequest.queue_position, SpeakerRequest.id)
    ))


def floor_state(meeting_id: int) -> dict:
    """The current speech (or None) and the waiting queue, in order."""
    speaking = _open_requests(meeting_id, SpeakerStatus.SPEAKING)
    return {
        "speaking": _speech_payload(speaking[0]) if speaking else None,
        "queue": [_speech_payload(r) for r in _open_requests(meeting_id, SpeakerStatus.WAITING)],
    }


def _publish(meeting_id: int) -> None:
    db.session.flush()
    events.publish(meeting_id, "floor.changed", floor_state(meeting_id))


def _request_in(meeting: Meeting, request_id: int) -> SpeakerRequest:
    request = db.session.get(SpeakerRequest, request_id)
    if request is None or request.meeting_id != meeting.id:
        raise NotFound("No such request for the floor.", fields={"request_id": "unknown request"})
    return request


def _require_live(meeting: Meeting) -> None:
    if meeting.session_state not in (SessionState.OPEN, SessionState.PAUSED):
        raise Conflict("The session is not open.", code="not_open")


def request_floor(actor: Actor, meeting_id: int) -> SpeakerRequest:
    """Put the actor's participant at the end of the queue (once: a second request conflicts)."""
    meeting = access.get_meeting(meeting_id, actor, Permission.SPEAK)
    participant = access.participant_of(actor, meeting)
    if participant is None:
        raise Forbidden("Only a participant of the meeting can ask for the floor.")
    _require_live(meeting)
    pending = db.session.scalar(select(SpeakerRequest).where(
        SpeakerRequest.meeting_id == meeting.id, SpeakerRequest.participant_id == participant.id,
        SpeakerRequest.status.in_((SpeakerStatus.WAITING, SpeakerStatus.SPEAKING))))
    if pending is not None:
        raise Conflict("You have already asked for the floor.", code="already_requested")
    last = db.session.scalar(select(func.max(SpeakerRequest.queue_position))
                             .where(SpeakerRequest.meeting_id == meeting.id)) or 0
    request = SpeakerRequest(meeting_id=meeting.id, participant_id=participant.id,
                             agenda_item_id=meeting.current_item_id, queue_position=last + 1,
                             requested_at=utcnow())
    db.session.add(request)
    db.session.flush()
    audit.record("floor.request", "speaker_request", request.id, actor=actor, meeting_id=meeting.id)
    _publish(meeting.id)
    return request


def withdraw(actor: Actor, meeting_id: int) -> SpeakerRequest:
    """The participant takes back their waiting request."""
    meeting = access.get_meeting(meeting_id, actor, Permission.SPEAK)
    participant = access.participant_of(actor, meeting)
    request = participant and db.session.scalar(select(SpeakerRequest).where(
        SpeakerRequest.meeting_id == meeting.id, SpeakerRequest.participant_id == participant.id,
        SpeakerRequest.status == SpeakerStatus.WAITING))
    if not request:
        raise Conflict("You are not waiting for the floor.", code="not_waiting")
    audit.record("floor.withdraw", "speaker_request", request.id, actor=actor, meeting_id=meeting.id)
    request.status = SpeakerStatus.WITHDRAWN
    request.ended_at = utcnow()
    _publish(meeting.id)
    return request


def end_current_speech(meeting: Meeting, now: datetime) -> SpeakerRequest | None:
    """End the running speech, if any (used when the floor passes on or the session ends)."""
    speaking = _open_requests(meeting.id, SpeakerStatus.SPEAKING)
    for request in speaking:
        request.status = SpeakerStatus.DONE
        request.ended_at = now
    if speaking:
        _publish(meeting.id)
    return speaking[0] if speaking else None


def grant(actor: Actor, meeting_id: int, request_id: int,
          time_limit_seconds: int | None = None) -> SpeakerRequest:
    """Give the floor: the speech starts now, with its time limit; a running speech ends."""
    meeting = access.get_meeting(meeting_id, actor, Permission.CHAIR)
    _require_live(meeting)
    request = _request_in(meeting, request_id)
    if request.status != SpeakerStatus.WAITING:
        raise Conflict("This request is not waiting for the floor.", code="not_waiting")
    limit = time_limit_seconds if time_limit_seconds is not None else meeting.default_speaking_seconds
    if not 0 <= limit <= MAX_SPEAKING_SECONDS:
        raise InvalidInput("The time limit is out of range.", fields={"time_limit_seconds": "range"})
    audit.record("floor.grant", "speaker_request", request.id, actor=actor, meeting_id=meeting.id,
                 payload={"participant_id": request.participant_id, "time_limit_seconds": limit})
    now = utcnow()
    end_current_speech(meeting, now)
    request.status = SpeakerStatus.SPEAKING
    request.started_at = now
    request.time_limit_seconds = limit or None  # 0: no limit
    _publish(meeting.id)
    return request


def end_speech(actor: Actor, meeting_id: int) -> SpeakerRequest:
    """The chair ends the running speech; a speaker may also end their own."""
    meeting = access.get_meeting(meeting_id, actor, Permission.VIEW)
    speaking = _open_requests(meeting.id, SpeakerStatus.SPEAKING)
    participant = access.participant_of(actor, meeting)
    own = bool(speaking) and participant is not None and speaking[0].participant_id == participant.id
    if not own:
        access.require(actor, meeting, Permission.CHAIR)
    if not speaking:
        raise Conflict("Nobody has the floor.", code="nobody_speaking")
    audit.record("floor.end", "speaker_request", speaking[0].id, actor=actor, meeting_id=meeting.id)
    return end_current_speech(meeting, utcnow())


def cancel(actor: Actor, meeting_id: int, request_id: int) -> SpeakerRequest:
    """The chair removes a waiting request from the queue."""
    meeting = access.get_meeting(meeting_id, actor, Permission.CHAIR)
    request = _request_in(meeting, request_id)
    if request.status != SpeakerStatus.WAITING:
        raise Conflict("This request is not waiting for the floor.", code="not_waiting")
    audit.record("floor.cancel", "speaker_request", request.id, actor=actor, meeting_id=meeting.id)
    request.status = SpeakerStatus.CANCELLED
    request.ended_at = utcnow()
    _publish(meeting.id)
    return request


def reorder(actor: Actor, meeting_id: int, request_ids: list[int]) -> list[SpeakerRequest]:
    """Put the waiting queue in the given order; the list must name every waiting request once."""
    meeting = access.get_meeting(meeting_id, actor, Permission.CHAIR)
    waiting = {r.id: r for r in _open_requests(meeting.id, SpeakerStatus.WAITING)}
    if sorted(request_ids) != sorted(waiting):
        raise Conflict("The order must list every waiting request exactly once.",
                       code="stale_queue", fields={"request_ids": "does not match the queue"})
    audit.record("floor.reorder", "meeting", meeting.id, actor=actor, meeting_id=meeting.id,
                 payload={"request_ids": request_ids})
    for position, request_id in enumerate(request_ids, start=1):
        waiting[request_id].queue_position = position
    _publish(meeting.id)
    return [waiting[i] for i in request_ids]
