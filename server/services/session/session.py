"""Running a session: open, pause, resume, adjourn; the current agenda item and its timer.

Every function here checks the actor, changes the rows, audits and publishes a
MeetingEvent in the caller's transaction; the caller commits. Event payloads
carry the full resulting state of what they change, so applying one twice is
harmless. The audit entry is always written before the first event: on
PostgreSQL both take a lock (the audit chain's, the meeting row's), and one
order everywhere means two transactions cannot deadlock on them.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from server.errors import Conflict, NotFound
from server.extensions import db
from server.models import AgendaItem, Meeting, MeetingStatus, SessionState, utcnow
from server.services import access, audit, events
from server.services.access import Permission
from server.services.actors import Actor
from server.services.session import floor
from server.services.timestamps import iso

# Meetings whose session can be run: published and not yet closed or sealed.
_RUNNABLE = (MeetingStatus.PUBLISHED, MeetingStatus.IN_SESSION)
_LIVE = (SessionState.OPEN, SessionState.PAUSED)


def require_lead(actor: Actor | None, meeting: Meeting) -> None:
    """The chair leads the session; the secretary may run it from the control room."""
    if actor is not None and access.permissions(actor, meeting) & {Permission.CHAIR, Permission.RUN}:
        return
    access.require(actor, meeting, Permission.CHAIR)  # raises the fitting error


def lead_meeting(actor: Actor | None, meeting_id: int) -> Meeting:
    meeting = access.get_meeting(meeting_id, actor, Permission.VIEW)
    require_lead(actor, meeting)
    return meeting


def session_payload(meeting: Meeting) -> dict:
    return {
        "state": meeting.session_state.value,
        "status": meeting.status.value,
        "opened_at": iso(meeting.session_opened_at),
        "closed_at": iso(meeting.session_closed_at),
    }


def timer_payload(item: AgendaItem) -> dict:
    """What a client needs to show the item's clock: elapsed = elapsed_seconds + (now - running_since)."""
    return {
        "item_id": item.id,
        "started_at": iso(item.started_at),
        "elapsed_seconds": item.elapsed_seconds,
        "running_since": iso(item.timer_running_since),
        "planned_minutes": item.planned_minutes,
    }


def agenda_order(meeting_id: int) -> list[AgendaItem]:
    """Every item of the meeting in reading order (depth first: 1, 1.1, 1.2, 2, ...)."""
    items = db.session.scalars(select(AgendaItem).where(AgendaItem.meeting_id == meeting_id)).all()
    children: dict[int | None, list[AgendaItem]] = {}
    for item in items:
        children.setdefault(item.parent_id, []).append(item)
    ordered: list[AgendaItem] = []

    def walk(parent_id):
        for item in sorted(children.get(parent_id, []), key=lambda i: (i.position, i.id)):
            ordered.append(item)
            walk(item.id)

    walk(None)
    return ordered


def _publish_session(meeting: Meeting) -> None:
    events.publish(meeting.id, "session.changed", session_payload(meeting))


def _stop_timer(item: AgendaItem | None, now: datetime) -> bool:
    if item is None or item.timer_running_since is None:
        return False
    item.elapsed_seconds += max(0, round((now - item.timer_running_since).total_seconds()))
    item.timer_running_since = None
    events.publish(item.meeting_id, "timer.changed", timer_payload(item))
    return True


def _current_item(meeting: Meeting) -> AgendaItem | None:
    return db.session.get(AgendaItem, meeting.current_item_id) if meeting.current_item_id else None


def open_session(actor: Actor, meeting_id: int) -> Meeting:
    """Open the session of a published meeting; the meeting is then in session."""
    meeting = lead_meeting(actor, meeting_id)
    if meeting.status not in _RUNNABLE:
        raise Conflict("Only a published meeting can be opened.", code="not_published")
    if meeting.session_state != SessionState.NOT_STARTED:
        raise Conflict("The session has already been opened.", code="already_open")
    audit.record("session.open", "meeting", meeting.id, actor=actor, meeting_id=meeting.id)
    meeting.session_state = SessionState.OPEN
    meeting.status = MeetingStatus.IN_SESSION
    meeting.session_opened_at = utcnow()
    _publish_session(meeting)
    return meeting


def pause_session(actor: Actor, meeting_id: int) -> Meeting:
    """Suspend the session; the current item's clock stops with it."""
    meeting = lead_meeting(actor, meeting_id)
    if meeting.session_state != SessionState.OPEN:
        raise Conflict("Only an open session can be paused.", code="not_open")
    audit.record("session.pause", "meeting", meeting.id, actor=actor, meeting_id=meeting.id)
    meeting.session_state = SessionState.PAUSED
    _stop_timer(_current_item(meeting), utcnow())
    _publish_session(meeting)
    return meeting


def resume_session(actor: Actor, meeting_id: int) -> Meeting:
    meeting = lead_meeting(actor, meeting_id)
    if meeting.session_state != SessionState.PAUSED:
        raise Conflict("Only a paused session can be resumed.", code="not_paused")
    audit.record("session.resume", "meeting", meeting.id, actor=actor, meeting_id=meeting.id)
    meeting.session_state = SessionState.OPEN
    _publish_session(meeting)
    return meeting


def adjourn_session(actor: Actor, meeting_id: int) -> Meeting:
    """Close the session for good: the clock stops, a running speech ends, the meeting is closed."""
    meeting = lead_meeting(actor, meeting_id)
    if meeting.session_state not in _LIVE:
        raise Conflict("Only an open or paused session can be adjourned.", code="not_open")
    audit.record("session.adjourn", "meeting", meeting.id, actor=actor, meeting_id=meeting.id)
    now = utcnow()
    _stop_timer(_current_item(meeting), now)
    floor.end_current_speech(meeting, now)
    meeting.session_state = SessionState.ADJOURNED
    meeting.status = MeetingStatus.CLOSED
    meeting.session_closed_at = now
    _publish_session(meeting)
    return meeting


def _require_live(meeting: Meeting) -> None:
    if meeting.session_state not in _LIVE:
        raise Conflict("Open the session first.", code="not_open")


def set_current_item(actor: Actor, meeting_id: int, item_id: int) -> Meeting:
    """Make ``item_id`` the item under discussion; the previous item's clock stops."""
    meeting = lead_meeting(actor, meeting_id)
    _require_live(meeting)
    order = agenda_order(meeting.id)  # one query: the item, the previous one and their order
    item = next((i for i in order if i.id == item_id), None)
    if item is None:
        raise NotFound("No such agenda item in this meeting.", fields={"item_id": "unknown item"})
    return _move_to(actor, meeting, item, order)


def step_item(actor: Actor, meeting_id: int, step: int) -> Meeting:
    """Move to the next (step=1) or previous (step=-1) item in reading order."""
    meeting = lead_meeting(actor, meeting_id)
    _require_live(meeting)
    order = agenda_order(meeting.id)
    if not order:
        raise Conflict("The agenda is empty.", code="empty_agenda")
    ids = [item.id for item in order]
    if meeting.current_item_id in ids:
        index = ids.index(meeting.current_item_id) + step
    else:
        index = 0 if step > 0 else len(ids) - 1
    if not 0 <= index < len(ids):
        raise Conflict("There is no item in that direction.", code="end_of_agenda")
    return _move_to(actor, meeting, order[index], order)


def _move_to(actor: Actor, meeting: Meeting, item: AgendaItem,
             order: list[AgendaItem]) -> Meeting:
    """``order`` is the meeting's agenda_order(), already loaded by the caller."""
    if meeting.current_item_id == item.id:
        return meeting  # already there: nothing changes, nothing is published
    previous = next((i for i in order if i.id == meeting.current_item_id), None)
    if previous is None and meeting.current_item_id is not None:
        previous = _current_item(meeting)
    now = utcnow()
    if previous is not None:
        ids = [i.id for i in order]
        if previous.id in ids and ids.index(item.id) > ids.index(previous.id):
            previous.done_at = now  # moved past it; going back to an earlier item leaves it as is
    item.done_at = None  # back to an item: it is under discussion again
    meeting.current_item_id = item.id
    # Written now, before the audit append: on SQLite this UPDATE takes the writer lock
    # the append needs, so it need not take it with an UPDATE of its own. (On PostgreSQL
    # the first write takes the writers' lock first either way: audit.serialize_writes.)
    db.session.flush()
    audit.sqlite_writer_lock_held(db.session)
    audit.record("session.item", "agenda_item", item.id, actor=actor, meeting_id=meeting.id,
                 payload={"previous_item_id": previous.id if previous else None})
    _stop_timer(previous, now)  # publishes: after the audit entry, as everywhere
    events.publish(meeting.id, "item.changed", {
        "current_item_id": item.id,
        "previous_item_id": previous.id if previous else None,
        "previous_done_at": iso(previous.done_at) if previous else None,
        "title": item.title,
        "timer": timer_payload(item),
    })
    return meeting


def _timer_item(actor: Actor, meeting_id: int, item_id: int | None) -> tuple[Meeting, AgendaItem]:
    meeting = lead_meeting(actor, meeting_id)
    item_id = item_id or meeting.current_item_id
    item = db.session.get(AgendaItem, item_id) if item_id else None
    if item is None or item.meeting_id != meeting.id:
        raise NotFound("No such agenda item in this meeting.", fields={"item_id": "unknown item"})
    return meeting, item


def timer_action(actor: Actor, meeting_id: int, action: str, item_id: int | None = None) -> AgendaItem:
    """Start, pause, resume or reset an item's clock (the current item by default).

    ``start`` begins a clock that never ran; ``resume`` continues a paused one;
    ``reset`` stops it and clears the elapsed time.
    """
    meeting, item = _timer_item(actor, meeting_id, item_id)
    running = item.timer_running_since is not None
    if action not in ("start", "resume", "pause", "reset"):
        raise NotFound(f"No timer action {action!r}.", fields={"action": "unknown action"})
    if action in ("start", "resume"):
        if running:
            raise Conflict("The clock is already running.", code="timer_running")
        if action == "start" and item.started_at is not None:
            raise Conflict("The clock has already been started; resume it.", code="timer_started")
        if action == "resume" and item.started_at is None:
            raise Conflict("The clock has not been started yet.", code="timer_not_started")
        _require_live(meeting)
    if action == "pause" and not running:
        raise Conflict("The clock is not running.", code="timer_not_running")
    audit.record(f"timer.{action}", "agenda_item", item.id, actor=actor, meeting_id=meeting.id)
    now = utcnow()
    if action in ("start", "resume"):
        item.started_at = item.started_at or now
        item.timer_running_since = now
    elif action == "pause":
        item.elapsed_seconds += max(0, round((now - item.timer_running_since).total_seconds()))
        item.timer_running_since = None
    else:  # reset
        item.started_at = None
        item.timer_running_since = None
        item.elapsed_seconds = 0
    events.publish(meeting.id, "timer.changed", timer_payload(item))
    return item
