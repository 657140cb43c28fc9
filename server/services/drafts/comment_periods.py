"""A document version opened for comments, until a deadline, for an audience.

The drafting office (``Permission.PREPARE``: the meeting's secretaries and the
secretary and admin accounts) opens a comment period on one version of a
document. Who may comment: with audience ``delegates`` the meeting's members
(chair and delegates), with ``named`` the participants named on it, with
``staff`` the chair and secretaries. A commenter must also be able to read the
document. Staff (``Permission.STAFF_VIEW``) see every comment_period; anyone else
sees only those they may comment on, and anything else answers 404.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from flask_babel import gettext as _

from server.errors import Conflict, InvalidInput, NotFound
from server.extensions import db
from server.models import (
    CommentPeriod, CommentPeriodAudience, CommentPeriodMember, Document, DocumentVersion,
    Meeting, MeetingRole, Participant, utcnow,
)
from server.schemas.drafts import CommentPeriodIn
from server.services import audit, events
from server.services.access import Permission, get_meeting, participant_of, permissions
from server.services.actors import Actor
from server.services.documents.access import read_right
from server.services.timestamps import iso

_MEMBERS = {
    CommentPeriodAudience.DELEGATES: {MeetingRole.CHAIR, MeetingRole.DELEGATE},
    CommentPeriodAudience.STAFF: {MeetingRole.CHAIR, MeetingRole.SECRETARY},
    CommentPeriodAudience.NAMED: set(MeetingRole),
}


@dataclass(frozen=True)
class Seen:
    """A comment period as one actor sees it."""

    comment_period: CommentPeriod
    meeting: Meeting
    version: DocumentVersion
    staff: bool  # sees every comment
    participant: Participant | None  # who comments, when the actor may


def is_open(comment_period: CommentPeriod, now: datetime | None = None) -> bool:
    return (now or utcnow()) < comment_period.deadline


def in_audience(comment_period: CommentPeriod, participant: Participant) -> bool:
    if participant.role not in _MEMBERS[comment_period.audience]:
        return False
    if comment_period.audience == CommentPeriodAudience.NAMED:
        return any(m.participant_id == participant.id for m in comment_period.members)
    return True


def audiences(comment_period: CommentPeriod) -> list[str]:
    """The realtime audiences that hear about the comment period (staff always)."""
    if comment_period.audience == CommentPeriodAudience.NAMED:
        return ["staff"] + [f"participant:{m.participant_id}"
                            for m in sorted(comment_period.members, key=lambda m: m.participant_id)]
    meeting = db.session.get(Meeting, comment_period.meeting_id)
    roles = _MEMBERS[comment_period.audience]
    return ["staff"] + [f"participant:{p.id}" for p in meeting.participants
                        if p.role in roles and not p.is_staff]


def payload(comment_period: CommentPeriod, seen: Seen | None = None) -> dict:
    version = db.session.get(DocumentVersion, comment_period.version_id)
    document = db.session.get(Document, comment_period.document_id)
    return {
        "id": comment_period.id, "meeting_id": comment_period.meeting_id,
        "document_id": comment_period.document_id, "agenda_item_id": document.agenda_item_id,
        "version_id": comment_period.version_id, "version_number": version.number,
        "page_count": version.page_count, "title": comment_period.title,
        "audience": comment_period.audience.value,
        "members": sorted(m.participant_id for m in comment_period.members),
        "deadline": iso(comment_period.deadline), "opened_at": iso(comment_period.opened_at),
        "open": is_open(comment_period),
        "can_comment": bool(seen and seen.participant is not None),
    }


def open_comment_period(actor: Actor | None, document_id: int,
                      fields: CommentPeriodIn) -> CommentPeriod:
    """Open a version of the document for comments; one comment_period per version."""
    document = db.session.get(Document, document_id)
    if document is None:
        raise NotFound("No such document.")
    meeting = get_meeting(document.meeting_id, actor, Permission.PREPARE)
    number = fields.version_number or (document.current_version.number
                                       if document.current_version else None)
    version = next((v for v in document.versions if v.number == number), None)
    if version is None:
        raise InvalidInput("The document has no such version.",
                           fields={"version_number": "unknown version"})
    if fields.deadline <= utcnow():
        raise InvalidInput(_("The deadline must be in the future."),
                           fields={"deadline": _("The deadline must be in the future.")})
    taken = db.session.scalar(select(CommentPeriod.id).where(CommentPeriod.version_id == version.id))
    if taken is not None:
        raise Conflict(_("This version is already open for comments."), code="already_open")
    members = sorted(set(fields.members)) if fields.audience == CommentPeriodAudience.NAMED else []
    known = set(db.session.scalars(select(Participant.id).where(
        Participant.meeting_id == meeting.id, Participant.id.in_(members))))
    if missing := [pid for pid in members if pid not in known]:
        raise InvalidInput("Some members are not participants of this meeting.",
                           fields={"members": f"unknown participants: {missing}"})
    comment_period = CommentPeriod(
        meeting_id=meeting.id, document_id=document.id, version_id=version.id,
        title=fields.title or document.title, audience=fields.audience,
        deadline=fields.deadline, opened_at=utcnow(),
        opened_by_id=actor.user.id if actor.user else None,
        members=[CommentPeriodMember(participant_id=pid) for pid in members])
    db.session.add(comment_period)
    db.session.flush()
    audit.record("draft.open", "comment_period", comment_period.id, actor=actor, meeting_id=meeting.id,
                 payload={"document_id": document.id, "version": version.number,
                          "audience": fields.audience.value, "members": members,
                          "deadline": iso(fields.deadline)})
    _announce(comment_period, "draft.opened")
    return comment_period


def update_comment_period(actor: Actor | None, comment_period_id: int,
                        deadline: datetime) -> CommentPeriod:
    """Move the deadline; a deadline in the past closes the comment period now."""
    comment_period = _get(comment_period_id)
    get_meeting(comment_period.meeting_id, actor, Permission.PREPARE)
    comment_period.deadline = max(deadline, comment_period.opened_at)
    db.session.flush()
    audit.record("draft.deadline", "comment_period", comment_period.id, actor=actor,
                 meeting_id=comment_period.meeting_id,
                 payload={"deadline": iso(comment_period.deadline)})
    _announce(comment_period, "draft.changed")
    return comment_period


def _announce(comment_period: CommentPeriod, type_: str) -> None:
    body = payload(comment_period)
    body.pop("can_comment")
    for audience in audiences(comment_period):
        events.publish(comment_period.meeting_id, type_, body, audience)


def _get(comment_period_id: int) -> CommentPeriod:
    comment_period = db.session.get(CommentPeriod, comment_period_id)
    if comment_period is None:
        raise NotFound("No such comment_period.")
    return comment_period


def seen_by(actor: Actor | None, comment_period_id: int) -> Seen:
    """The comment period if the actor may see it (staff, or a participant who may comment)."""
    comment_period = _get(comment_period_id)
    meeting = get_meeting(comment_period.meeting_id, actor, Permission.VIEW)
    version = db.session.get(DocumentVersion, comment_period.version_id)
    return _seen(actor, comment_period, meeting, version) or _not_found()


def _not_found():
    raise NotFound("No such comment_period.")


def _seen(actor: Actor, comment_period: CommentPeriod, meeting: Meeting,
          version: DocumentVersion) -> Seen | None:
    staff = Permission.STAFF_VIEW in permissions(actor, meeting)
    participant = participant_of(actor, meeting)
    if participant is not None:
        document = db.session.get(Document, comment_period.document_id)
        readable = read_right(actor, document, meeting, version) is not None
        if not (readable and in_audience(comment_period, participant)):
            participant = None
    if not staff and participant is None:
        return None
    return Seen(comment_period, meeting, version, staff, participant)


def visible(actor: Actor | None, meeting_id: int) -> list[Seen]:
    """The meeting's comment_periods the actor may see, in the order they were opened."""
    meeting = get_meeting(meeting_id, actor, Permission.VIEW)
    found = db.session.scalars(select(CommentPeriod).where(CommentPeriod.meeting_id == meeting.id)
                               .order_by(CommentPeriod.opened_at, CommentPeriod.id))
    result = []
    for comment_period in found:
        version = db.session.get(DocumentVersion, comment_period.version_id)
        seen = _seen(actor, comment_period, meeting, version)
        if seen is not None:
            result.append(seen)
    return result
