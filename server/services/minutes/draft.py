"""Draft the minutes' sections from the meeting's record.

Everything here is read from the database as the session left it:
attendance and quorum, the agenda with its speakers, documents (with their
sha256), polls with their results and decisions. The result is plain JSON
(``Minutes.sections``) that the secretary edits and the PDF layout renders.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import select

from server.extensions import db
from server.models import (
    AgendaItem, AttendanceStatus, CommentPeriod, Document, DraftComment, Meeting, MeetingRole,
    Participant, Poll, PollStatus, SpeakerRequest,
)
from server.services.amendments import record as amendment_record
from server.services.voting.tally import quorum_met

SECTIONS_VERSION = 1
_REPORTED_POLLS = (PollStatus.CLOSED, PollStatus.PUBLISHED, PollStatus.CANCELLED)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _number(value) -> str:
    """A count or weight as a short string: 3, 2.5 (never 3.0000)."""
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    text = format(number.normalize(), "f")
    return text


def _person(p: Participant) -> dict:
    return {"id": p.id, "name": p.full_name, "position": p.position, "role": p.role.value}


def attendance(meeting: Meeting) -> dict:
    groups: dict[str, list] = {"present": [], "absent": [], "excused": []}
    for p in meeting.participants:
        person = _person(p)
        if p.attendance == AttendanceStatus.EXCUSED:
            person["excuse"] = p.excuse
        groups[p.attendance.value].append(person)
    members = [p for p in meeting.participants if p.voting_right]
    present = [p for p in members if p.attendance == AttendanceStatus.PRESENT]
    members_weight = sum((p.weight for p in members), Decimal(0))
    present_weight = sum((p.weight for p in present), Decimal(0))
    return {**groups, "members": len(members), "present_members": len(present),
            "members_weight": _number(members_weight), "present_weight": _number(present_weight),
            "quorum_rule": meeting.quorum_rule.value,
            "quorum_reached": quorum_met(meeting.quorum_rule, present_weight, members_weight)}


def _option_figures(result: dict, key: str) -> tuple[object, object]:
    """(count, weight) of one option, from whichever shape the result uses.

    The tally gives ``{"totals": {"yes": {"count": 3, "weight": "3.5"}}}``;
    lists of ``{"key", "count", "weight"}`` and bare numbers are read too.
    """
    weights = result.get("weights") if isinstance(result.get("weights"), dict) else {}
    for name in ("totals", "options", "counts", "tally"):
        container = result.get(name)
        entry = None
        if isinstance(container, list):
            entry = next((e for e in container if isinstance(e, dict) and e.get("key") == key), None)
        elif isinstance(container, dict):
            entry = container.get(key)
        if isinstance(entry, dict):
            count = entry.get("count", entry.get("votes"))
            return count, entry.get("weight", weights.get(key, count))
        if isinstance(entry, (int, float, str)):
            return entry, weights.get(key, entry)
    return None, None


def _passed(result: dict) -> bool | None:
    if result.get("outcome") == "no_quorum":
        return False
    for name in ("passed", "adopted", "carried"):
        if isinstance(result.get(name), bool):
            return result[name]
    outcome = str(result.get("outcome", "")).lower()
    if outcome in ("passed", "adopted", "carried", "elected"):
        return True
    if outcome in ("failed", "rejected", "not_passed", "no_quorum"):
        return False
    return None


def poll_summary(poll: Poll) -> dict:
    """A poll and its result, read defensively: a missing figure stays None."""
    result = poll.result if isinstance(poll.result, dict) else {}
    options = []
    for option in poll.options:
        count, weight = _option_figures(result, option.key)
        options.append({"key": option.key, "label": option.label,
                        "count": None if count is None else _number(count),
                        "weight": None if weight is None else _number(weight)})
    cast = result.get("ballots", result.get("cast"))
    if isinstance(cast, dict):
        cast = cast.get("count")
    if isinstance(cast, list):
        cast = len(cast)
    elected = result.get("elected")
    return {
        "id": poll.id, "motion": poll.motion, "kind": poll.kind.value,
        "option_kind": poll.option_kind.value, "majority": poll.majority.value,
        "majority_base": poll.majority_base.value, "status": poll.status.value,
        "closed_at": _iso(poll.closed_at), "options": options,
        "cast": None if cast is None else _number(cast),
        "passed": _passed(result), "quorum_reached": result.get("quorum_reached"),
        "elected": [str(key) for key in elected] if isinstance(elected, list) else [],
        "outcome": str(result.get("outcome") or ""),
        "decision": poll.decision or "",
        "ballot_digest": str(result.get("ballot_digest") or ""),
    }


def _speeches(meeting_id: int) -> dict[int | None, list]:
    rows = db.session.scalars(
        select(SpeakerRequest).where(SpeakerRequest.meeting_id == meeting_id,
                                     SpeakerRequest.started_at.is_not(None))
        .order_by(SpeakerRequest.started_at)
    )
    speeches: dict[int | None, list] = {}
    for row in rows:
        seconds = (int((row.ended_at - row.started_at).total_seconds())
                   if row.ended_at else None)
        speeches.setdefault(row.agenda_item_id, []).append(
            {"name": row.participant.full_name, "position": row.participant.position,
             "started_at": _iso(row.started_at), "ended_at": _iso(row.ended_at),
             "seconds": seconds})
    return speeches


def _comment_periods(meeting_id: int) -> dict[int, dict]:
    """Per document version opened for comments: how many comments, and how they were answered
    (a duplicate merged into another counts with it, not on its own)."""
    found: dict[int, dict] = {}
    for comment_period in db.session.scalars(select(CommentPeriod).where(
            CommentPeriod.meeting_id == meeting_id)):
        rows = db.session.scalars(select(DraftComment).where(
            DraftComment.comment_period_id == comment_period.id)).all()
        answered = [c for c in rows if not c.merged_into_id]
        found[comment_period.version_id] = {
            "title": comment_period.title, "comments": len(rows), "points": len(answered),
            **{kind: sum(1 for c in answered if c.response and c.response.value == kind)
               for kind in ("accepted", "explained", "not_accepted")}}
    return found


def _documents(meeting_id: int) -> dict[int | None, list]:
    documents: dict[int | None, list] = {}
    comment_periods = _comment_periods(meeting_id)
    rows = db.session.scalars(select(Document).where(Document.meeting_id == meeting_id)
                              .order_by(Document.position, Document.id))
    for document in rows:
        for version in document.versions:
            documents.setdefault(document.agenda_item_id, []).append(
                {"title": document.title, "version": version.number,
                 "filename": version.filename, "sha256": version.blob_sha256,
                 "pages": version.page_count, "confidential": document.confidential,
                 **({"comment_period": comment_periods[version.id]}
                    if version.id in comment_periods else {})})
    return documents


def _polls(meeting_id: int) -> dict[int | None, list]:
    polls: dict[int | None, list] = {}
    rows = db.session.scalars(select(Poll).where(Poll.meeting_id == meeting_id,
                                                 Poll.status.in_(_REPORTED_POLLS))
                              .order_by(Poll.closed_at, Poll.id))
    for poll in rows:
        polls.setdefault(poll.agenda_item_id, []).append(poll_summary(poll))
    return polls


def _walk(items: list[AgendaItem], prefix: str = "", level: int = 0):
    for index, item in enumerate(sorted(items, key=lambda i: (i.position, i.id)), start=1):
        number = f"{prefix}{index}"
        yield number, level, item
        yield from _walk(item.children, number + ".", level + 1)


def _named(meeting: Meeting, role: MeetingRole) -> str:
    return next((p.full_name for p in meeting.participants if p.role == role), "")


def draft_sections(meeting: Meeting, timezone: str) -> dict:
    """The whole record of the meeting as editable minutes sections."""
    speeches, documents, polls = (_speeches(meeting.id), _documents(meeting.id),
                                  _polls(meeting.id))
    drafts = amendment_record.minutes_summary(meeting.id)
    roots = [item for item in meeting.agenda_items if item.parent_id is None]
    items = [{"id": item.id, "number": number, "level": level, "title": item.title,
              "presenter": item.presenter, "description": item.description,
              "speakers": speeches.get(item.id, []), "documents": documents.get(item.id, []),
              "polls": polls.get(item.id, []), "draft_texts": drafts.get(item.id, []),
              "decision": item.decision or "", "notes": ""}
             for number, level, item in _walk(roots)]
    return {
        "version": SECTIONS_VERSION,
        "meeting": {"id": meeting.id, "title": meeting.title, "body": meeting.body,
                    "reference": meeting.reference, "place": meeting.place,
                    "locality": meeting.place, "timezone": timezone,
                    "starts_at": _iso(meeting.starts_at),
                    "opened_at": _iso(meeting.session_opened_at),
                    "closed_at": _iso(meeting.session_closed_at)},
        "chair": _named(meeting, MeetingRole.CHAIR),
        "secretary": _named(meeting, MeetingRole.SECRETARY),
        "attendance": attendance(meeting),
        "opening": "",
        "items": items,
        "general": {"speakers": speeches.get(None, []), "documents": documents.get(None, []),
                    "polls": polls.get(None, []), "draft_texts": drafts.get(None, [])},
        "adjournment": "",
        "edited": [],
    }
