"""Socket.IO handlers: authenticate on connect, then one dispatcher for every event.

Staff authenticate with their login session cookie and name the meeting
(``auth={"meeting_id": 3}``); tablets and projectors with their device token
(``auth={"token": "..."}``), which names the meeting itself. Every event is
throttled, validated, run as its sender and answered through the ack:
``{"ok": true, ...}`` or ``{"ok": false, "error": {"code", "message", "fields"}}``.
"""
from __future__ import annotations

import logging

from flask import request
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, join_room
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from sqlalchemy.exc import OperationalError

from server.auth import current_login_id

from server.errors import (
    database_unavailable,
    Forbidden, HemicycleError, InvalidInput, NotAuthenticated, TooManyRequests,
    invalid_from_validation,
)
from server.extensions import db, socketio
from server.models import Device, Meeting, User
from server.realtime import broadcast, device_commands
from server.realtime import context as contexts
from server.realtime.commands import COMMANDS
from server.realtime.context import ConnectionContext
from server.services import access, audit, events
from server.services.accounts import logins
from server.services.consultations import asking as consultations
from server.services.devices import devices
from server.services.session import attendance
from server.services.access import Permission
from server.services.actors import Actor, logged_in_user, paired_device
from server.schemas.types import MAX_ID, require_storable
from server.services.tokens import device_for_token

log = logging.getLogger(__name__)


def register(sio) -> None:
    sio.on_event("connect", on_connect)
    sio.on_event("disconnect", on_disconnect)
    sio.on_event("*", on_event)


# Connecting ---------------------------------------------------------------------------

def on_connect(auth=None):
    try:
        context = _authenticate(auth if isinstance(auth, dict) else {})
        try:
            contexts.register(context)
        except contexts.TooManyConnections:
            raise TooManyRequests("This device or account has too many connections open; "
                                  "close one first.", code="too_many_connections") from None
        for room in context.rooms():
            join_room(room)
        if context.kind == "device":
            device = db.session.get(Device, context.device_id)
            came_online = attendance.tablet_connected(device)
            wipe_pending = devices.wipe_pending(device)
            db.session.commit()
            if came_online:
                broadcast.presence(context, online=True)
            if wipe_pending:  # a wipe it has not confirmed: ask again on every connection
                device_commands.send_wipe_later(context.sid, context.device_id)
    except HemicycleError as exc:
        db.session.rollback()
        contexts.forget(request.sid)
        raise ConnectionRefusedError(exc.message, {"code": exc.code}) from None
    except Exception:
        db.session.rollback()
        contexts.forget(request.sid)
        log.exception("socket connect failed")
        raise ConnectionRefusedError("Internal error; it has been logged.",
                                     {"code": "internal_error"}) from None


def _authenticate(auth: dict) -> ConnectionContext:
    require_storable(auth)
    token = auth.get("token")
    if token is not None:
        device = device_for_token(token) if isinstance(token, str) else None
        if device is None:
            raise NotAuthenticated("This device token is unknown or has been revoked; pair again.",
                                   code="invalid_token")
        actor = Actor.of_device(device)
        meeting = access.get_meeting(device.meeting_id, actor, Permission.WATCH)
        return _context(actor, meeting, device=device)
    if not current_user.is_authenticated:
        raise NotAuthenticated("Log in first, or connect with a device token.")
    meeting_id = auth.get("meeting_id")
    if meeting_id is None and auth.get("consultations") is True:
        return _consultations_context(current_user._get_current_object())
    if not isinstance(meeting_id, int) or isinstance(meeting_id, bool) \
            or not 1 <= meeting_id <= MAX_ID:
        raise InvalidInput("Say which meeting to follow: auth={\"meeting_id\": <id>}.",
                           code="meeting_required")
    user = current_user._get_current_object()
    login_id = current_login_id()
    if login_id is None:
        raise NotAuthenticated("Your session has ended; log in again.")
    actor = Actor.of_user(user)
    meeting = access.get_meeting(meeting_id, actor, Permission.WATCH)
    return _context(actor, meeting, user=user, login_id=login_id)


def _context(actor: Actor, meeting: Meeting, *, user: User | None = None,
             device: Device | None = None, login_id: int | None = None) -> ConnectionContext:
    granted = access.permissions(actor, meeting)
    participant = access.participant_of(actor, meeting)
    return ConnectionContext(
        sid=request.sid, kind=actor.kind, meeting_id=meeting.id,
        user_id=user.id if user else None, session_epoch=user.session_epoch if user else None,
        login_id=login_id,
        device_id=device.id if device else None,
        participant_id=participant.id if participant else None,
        staff=Permission.STAFF_VIEW in granted,
        account_id=user.id if user else (participant.user_id if participant else None),
        office=consultations.is_office(actor),
    )


def _consultations_context(user: User) -> ConnectionContext:
    """A logged-in account following its written consultations only (no meeting: every
    meeting command on it is refused with ``wrong_meeting``)."""
    login_id = current_login_id()
    if login_id is None:
        raise NotAuthenticated("Your session has ended; log in again.")
    actor = Actor.of_user(user)
    return ConnectionContext(
        sid=request.sid, kind="user", meeting_id=contexts.NO_MEETING, user_id=user.id,
        session_epoch=user.session_epoch, login_id=login_id, account_id=user.id,
        office=consultations.is_office(actor))


def on_disconnect(*_reason):
    context = contexts.forget(request.sid)
    if context is None or context.kind != "device":
        return
    try:
        device = db.session.get(Device, context.device_id)
        if device is not None:
            went_offline = attendance.tablet_disconnected(device)
            db.session.commit()
            if went_offline:
                broadcast.presence(context, online=False)
    except Exception:
        db.session.rollback()
        log.exception("socket disconnect bookkeeping failed")


# Events -------------------------------------------------------------------------------

def error_ack(error: HemicycleError) -> dict:
    return {"ok": False, **error.as_dict()}


def _actor(context: ConnectionContext) -> tuple[Actor, Meeting | None]:
    """The sender, reloaded for every event: a revoked token, or a user whose login has
    ended (logout, new password, account disabled), stops at once.

    A device is read in one statement with its participant and its meeting (every
    command checks the sender's rights in the meeting). The caller holds the meeting
    for the event: the session's identity map keeps only weak references, and held,
    the command's ``get_meeting`` finds it there instead of SELECTing it again.
    """
    if context.device_id is not None:
        row = db.session.execute(
            select(Device, Meeting)
            .join(Meeting, Meeting.id == Device.meeting_id)
            .options(joinedload(Device.participant))
            .where(Device.id == context.device_id)
        ).first()
        device, meeting = row if row is not None else (None, None)
        return paired_device(device), meeting
    return logged_in_user(logins.live_user(context.login_id, context.user_id),
                          context.session_epoch), None


def hang_up(context: ConnectionContext, reason: HemicycleError, delay: float = 0.2) -> None:
    """Disconnect once the acknowledgement now being answered has left."""
    context.closing = reason  # from now on every event is answered with it
    sid = context.sid

    def later():
        socketio.sleep(delay)
        socketio.server.disconnect(sid)

    socketio.start_background_task(later)


def on_event(event, *args):
    sid = request.sid
    context = contexts.get(sid)
    if context is None:
        return error_ack(NotAuthenticated("This connection is not authenticated."))
    if context.closing is not None:
        return error_ack(context.closing)
    # The buckets are the sender's (device or user), shared by all its connections here.
    sender = context.sender
    if not sender.events.take():
        return _throttled(context, sender.events, "Too many events; slow down.")
    spec = COMMANDS.get(event) if isinstance(event, str) else None
    if spec is None:
        return error_ack(HemicycleError(f"There is no event {str(event)[:64]!r}.",
                                        code="unknown_event"))
    if spec.changes_state and not sender.changes.ready():
        return _throttled(context, sender.changes, "Too many changes; slow down.")
    try:
        answer = _run(spec, context, args)
        if spec.changes_state:
            sender.changes.spend()  # only a change that was made counts
        return answer
    except HemicycleError as exc:
        db.session.rollback()
        if isinstance(exc, NotAuthenticated):
            hang_up(context, exc)
        return error_ack(exc)
    except OperationalError as exc:  # the database went away: say so, it is not a bug
        db.rollback_quietly()
        log.error("socket event %s: database unavailable: %s", event, str(exc).splitlines()[0])
        return error_ack(database_unavailable())
    except Exception:
        db.session.rollback()
        log.exception("socket event %s failed", event)
        return error_ack(HemicycleError("Internal error; it has been logged.",
                                        code="internal_error", status=500))


def _throttled(context: ConnectionContext, bucket, message: str) -> dict:
    error = TooManyRequests(message)
    if bucket.refused > contexts.ABUSE_LIMIT:
        log.warning("socket %s (%s) cut off for flooding", context.sid, context.kind)
        hang_up(context, error)
    return error_ack(error)


def _run(spec, context: ConnectionContext, args: tuple) -> dict:
    if len(args) != 1 or not isinstance(args[0], dict):
        raise InvalidInput("The payload must be one JSON object.", code="invalid_payload")
    require_storable(args[0])
    try:
        data = spec.schema.model_validate(args[0])
    except ValidationError as exc:
        raise invalid_from_validation(exc) from None
    if data.meeting_id != context.meeting_id:
        raise InvalidInput("This connection follows another meeting.", code="wrong_meeting",
                           fields={"meeting_id": "not the meeting of this connection"})
    if spec.batched:  # it checks its sender (revoked, logged out) in its batch
        if context.user_id is not None:  # and the login, which the batch does not know
            _actor(context)
            db.session.rollback()  # end the read transaction: the batch has its own
        return {"ok": True, **spec.run(None, context, data)}
    actor, _meeting = _actor(context)  # _meeting: held for the command (see _actor)
    try:
        result = spec.run(actor, context, data)
    except (Forbidden, NotAuthenticated) as exc:
        audit.record_refusal(f"socket.{spec.name}", "meeting", data.meeting_id, actor=actor,
                             meeting_id=data.meeting_id, reason=exc.message)
        raise
    if spec.changes_state:
        if "revision" not in result:
            result["revision"] = _revision_at_commit(context.meeting_id)
        db.session.commit()
    else:
        db.session.rollback()  # end the read transaction
    return {"ok": True, **result}


def _revision_at_commit(meeting_id: int) -> int:
    """The meeting's revision as this transaction will commit it, read before the commit.

    When the change published events, the highest of their revisions is it: the
    transaction holds the write lock from its revision bump to its commit, so no other
    change can come between. Otherwise it is read in the transaction. Either way no new
    transaction is started after the commit, between the broadcast and the answer.
    """
    published = [e.revision for e in events.pending(db.session) if e.meeting_id == meeting_id]
    if published:
        return max(published)
    return db.session.scalar(select(Meeting.revision).where(Meeting.id == meeting_id))
