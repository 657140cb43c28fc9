"""The socket commands: name, payload schema, and the service call behind each.

Handlers are thin: the schema has validated the payload, the service checks
the actor's permission in the meeting and does the work; what a handler
returns becomes the ``ok`` acknowledgement.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from pydantic import BaseModel

from server.realtime.context import ConnectionContext
from server.realtime.sync import catch_up
from server.schemas import realtime as schemas
from server.services import access
from server.services.session import attendance, floor, session
from server.services.access import Permission
from server.services.actors import Actor


@dataclass(frozen=True)
class SocketCommand:
    name: str
    schema: type[BaseModel]
    run: Callable[[Actor | None, ConnectionContext, BaseModel], dict]
    changes_state: bool = True
    # Reloads and checks its sender itself, with others at once, and commits itself
    # (``ballot.cast``): the dispatcher passes no actor and leaves the transaction alone.
    batched: bool = False


COMMANDS: dict[str, SocketCommand] = {}


def command(name: str, schema: type[BaseModel], *, changes_state: bool = True,
            batched: bool = False):
    def register(run):
        COMMANDS[name] = SocketCommand(name, schema, run, changes_state, batched)
        return run

    return register


def _session(meeting) -> dict:
    return {"session": session.session_payload(meeting)}


@command("sync", schemas.Sync, changes_state=False)
def sync(actor, context, data):
    access.get_meeting(data.meeting_id, actor, Permission.WATCH)
    return catch_up(context, data.since_revision)


@command("session.open", schemas.Command)
def open_session(actor, context, data):
    return _session(session.open_session(actor, data.meeting_id))


@command("session.pause", schemas.Command)
def pause_session(actor, context, data):
    return _session(session.pause_session(actor, data.meeting_id))


@command("session.resume", schemas.Command)
def resume_session(actor, context, data):
    return _session(session.resume_session(actor, data.meeting_id))


@command("session.adjourn", schemas.Command)
def adjourn_session(actor, context, data):
    return _session(session.adjourn_session(actor, data.meeting_id))


@command("item.set", schemas.ItemSet)
def set_item(actor, context, data):
    meeting = session.set_current_item(actor, data.meeting_id, data.item_id)
    return {"current_item_id": meeting.current_item_id}


@command("item.next", schemas.Command)
def next_item(actor, context, data):
    return {"current_item_id": session.step_item(actor, data.meeting_id, +1).current_item_id}


@command("item.previous", schemas.Command)
def previous_item(actor, context, data):
    return {"current_item_id": session.step_item(actor, data.meeting_id, -1).current_item_id}


def _timer(action: str):
    def run(actor, context, data):
        return {"timer": session.timer_payload(
            session.timer_action(actor, data.meeting_id, action, data.item_id))}

    return run


for _action in ("start", "pause", "resume", "reset"):
    command(f"timer.{_action}", schemas.TimerCommand)(_timer(_action))


@command("attendance.mark", schemas.AttendanceMark)
def mark_attendance(actor, context, data):
    participant = attendance.mark(actor, data.meeting_id, data.participant_id, data.status,
                                  data.excuse)
    return {"attendance": attendance.participant_payload(participant)}


@command("attendance.check_in", schemas.DoorCheckIn)
def check_in(actor, context, data):
    participant = attendance.check_in(actor, data.meeting_id, data.door_token)
    return {"attendance": attendance.participant_payload(participant)}


@command("floor.request", schemas.Command)
def request_floor(actor, context, data):
    return {"request_id": floor.request_floor(actor, data.meeting_id).id}


@command("floor.withdraw", schemas.Command)
def withdraw_floor(actor, context, data):
    return {"request_id": floor.withdraw(actor, data.meeting_id).id}


@command("floor.grant", schemas.FloorGrant)
def grant_floor(actor, context, data):
    request = floor.grant(actor, data.meeting_id, data.request_id, data.time_limit_seconds)
    return {"request_id": request.id}


@command("floor.end", schemas.Command)
def end_speech(actor, context, data):
    return {"request_id": floor.end_speech(actor, data.meeting_id).id}


@command("floor.cancel", schemas.FloorRequestId)
def cancel_request(actor, context, data):
    return {"request_id": floor.cancel(actor, data.meeting_id, data.request_id).id}


@command("floor.reorder", schemas.FloorReorder)
def reorder_queue(actor, context, data):
    return {"request_ids": [r.id for r in floor.reorder(actor, data.meeting_id, data.request_ids)]}
