"""Catching a client up: the events it missed, or a snapshot of the whole meeting.

The revision is read before anything else, so the state a client receives
includes at least everything up to that revision; events after it may already
be reflected, which is harmless because events carry resulting state.
"""
from __future__ import annotations

from sqlalchemy import func, select

from server.extensions import db
from server.models import (
    AgendaItem, DocumentVersion, Meeting, MeetingEvent, Participant, Poll, PollStatus, VoterRecord,
)
from server.realtime.context import ConnectionContext
from server.services.meetings import agenda
from server.services.session import attendance, floor, session
from server.services.timestamps import iso

# A client further behind than this gets a snapshot instead of a replay.
MAX_REPLAY = 500


def event_message(event: MeetingEvent) -> dict:
    """An event as clients receive it, live or replayed."""
    return {
        "meeting_id": event.meeting_id,
        "revision": event.revision,
        "type": event.type,
        "payload": event.payload,
        "at": iso(event.created_at),
    }


def catch_up(context: ConnectionContext, since_revision: int | None) -> dict:
    """``{"mode": "events", "revision", "events"}`` or ``{"mode": "snapshot", "revision", "snapshot"}``.

    Staff answers also carry ``online``: the participants whose tablets are connected.
    """
    meeting_id = context.meeting_id
    revision = db.session.scalar(select(Meeting.revision).where(Meeting.id == meeting_id))
    if since_revision is not None and since_revision <= revision <= since_revision + MAX_REPLAY:
        rows = db.session.scalars(
            select(MeetingEvent)
            .where(MeetingEvent.meeting_id == meeting_id, MeetingEvent.revision > since_revision,
                   MeetingEvent.revision <= revision)
            .order_by(MeetingEvent.revision)
        )
        events = [event_message(e) for e in rows if context.may_see(e.audience)]
        answer = {"mode": "events", "revision": revision, "events": events}
    else:
        meeting = db.session.get(Meeting, meeting_id)
        answer = {"mode": "snapshot", "revision": revision,
                  "snapshot": snapshot(meeting, context.staff)}
    if context.staff:
        # Presence is not revisioned: staff get the whole list with every sync.
        answer["online"] = attendance.online_participants(meeting_id)
    return answer


def agenda_tree(meeting_id: int) -> list[dict]:
    """The nested agenda with derived numbers ("2.1") and each item's clock."""
    def node(item: AgendaItem, number: str, _depth: int, children: list[dict]) -> dict:
        return {
            "id": item.id,
            "number": number,
            "title": item.title,
            "presenter": item.presenter,
            "planned_minutes": item.planned_minutes,
            "done_at": iso(item.done_at),
            "timer": session.timer_payload(item),
            "children": children,
        }

    return agenda.build_tree(meeting_id, node)


def _presented(meeting: Meeting) -> dict | None:
    if meeting.presented_version_id is None:
        return None
    version = db.session.get(DocumentVersion, meeting.presented_version_id)
    if version is None:
        return None
    return {"version_id": version.id, "document_id": version.document_id,
            "number": version.number, "title": version.document.title,
            "page": meeting.presented_page, "page_count": version.page_count}


def _open_poll(meeting_id: int) -> dict | None:
    poll = db.session.scalar(
        select(Poll).where(Poll.meeting_id == meeting_id, Poll.status == PollStatus.OPEN)
        .order_by(Poll.opened_at.desc(), Poll.id.desc()).limit(1)
    )
    if poll is None:
        return None
    voted = db.session.scalar(select(func.count()).select_from(VoterRecord)
                              .where(VoterRecord.poll_id == poll.id))
    return {"poll_id": poll.id, "motion": poll.motion, "kind": poll.kind.value,
            "option_kind": poll.option_kind.value, "agenda_item_id": poll.agenda_item_id,
            "options": [{"key": o.key, "label": o.label} for o in poll.options],
            "opened_at": iso(poll.opened_at), "closes_at": iso(poll.closes_at), "voted": voted}


def snapshot(meeting: Meeting, staff: bool) -> dict:
    """The whole live state of the meeting, as a client starting from nothing needs it."""
    participants = db.session.scalars(
        select(Participant).where(Participant.meeting_id == meeting.id).order_by(Participant.id))
    people = []
    for p in participants:
        entry = {"participant_id": p.id, "name": p.full_name, "role": p.role.value,
                 "seat": p.seat, "position": p.position, "voting_right": p.voting_right,
                 "attendance": p.attendance.value}
        if staff:
            entry.update(attendance.participant_payload(p))
        people.append(entry)
    state = {
        "meeting": {"id": meeting.id, "title": meeting.title, "body": meeting.body,
                    "place": meeting.place, "starts_at": iso(meeting.starts_at)},
        "session": session.session_payload(meeting),
        "current_item_id": meeting.current_item_id,
        "agenda": agenda_tree(meeting.id),
        "presented": _presented(meeting),
        "floor": floor.floor_state(meeting.id),
        "quorum": attendance.quorum(meeting),
        "participants": people,
        "poll": _open_poll(meeting.id),
    }
    return state
