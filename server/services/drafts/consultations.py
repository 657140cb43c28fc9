"""A document version opened for comments, until a deadline, for an audience.

The drafting office (``Permission.PREPARE``: the meeting's secretaries and the
secretary and admin accounts) opens a consultation on one version of a
document. Who may comment: with audience ``delegates`` the meeting's members
(chair and delegates), with ``named`` the participants named on it, with
``staff`` the chair and secretaries. A commenter must also be able to read the
document. Staff (``Permission.STAFF_VIEW``) see every consultation; anyone else
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
    Consultation, ConsultationAudience, ConsultationMember, Document, DocumentVersion,
    Meeting, MeetingRole, Participant, utcnow,
)
from server.schemas.drafts import ConsultationIn
from server.services import audit, events
from server.services.access import Permission, get_meeting, participant_of, permissions
from server.services.actors import Actor
from server.services.documents.access import read_right
from server.services.timestamps import iso

_MEMBERS = {
    ConsultationAudience.DELEGATES: {MeetingRole.CHAIR, MeetingRole.DELEGATE},
    ConsultationAudience.STAFF: {MeetingRole.CHAIR, MeetingRole.SECRETARY},
    ConsultationAudience.NAMED: set(MeetingRole),
}


@dataclass(frozen=True)
class Seen:
    """A consultation as one actor sees it."""

    consultation: Consultation
    meeting: Meeting
    version: DocumentVersion
    staff: bool  # sees every comment
    participant: Participant | None  # who comments, when the actor may


def is_open(consultation: Consultation, now: datetime | None = None) -> bool:
    return (now or utcnow()) < consultation.deadline


def in_audience(consultation: Consultation, participant: Participant) -> bool:
    if participant.role not in _MEMBERS[consultation.audience]:
        return False
    if consultation.audience == ConsultationAudience.NAMED:
        return any(m.participant_id == participant.id for m in consultation.members)
    return True


def audiences(consultation: Consultation) -> list[str]:
    """The realtime audiences that hear about the consultation (staff always)."""
    if consultation.audience == ConsultationAudience.NAMED:
        return ["staff"] + [f"participant:{m.participant_id}"
                            for m in sorted(consultation.members, key=lambda m: m.participant_id)]
    meeting = db.session.get(Meeting, consultation.meeting_id)
    roles = _MEMBERS[consultation.audience]
    return ["staff"] + [f"participant:{p.id}" for p in meeting.participants
                        if p.role in roles and not p.is_staff]


def payload(consultation: Consultation, seen: Seen | None = None) -> dict:
    version = db.session.get(DocumentVersion, consultation.version_id)
    document = db.session.get(Document, consultation.document_id)
    return {
        "id": consultation.id, "meeting_id": consultation.meeting_id,
        "document_id": consultation.document_id, "agenda_item_id": document.agenda_item_id,
        "version_id": consultation.version_id, "version_number": version.number,
        "page_count": version.page_count, "title": consultation.title,
        "audience": consultation.audience.value,
        "members": sorted(m.participant_id for m in consultation.members),
        "deadline": iso(consultation.deadline), "opened_at": iso(consultation.opened_at),
        "open": is_open(consultation),
        "can_comment": bool(seen and seen.participant is not None),
    }


def open_consultation(actor: Actor | None, document_id: int,
                      fields: ConsultationIn) -> Consultation:
    """Open a version of the document for comments; one consultation per version."""
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
    taken = db.session.scalar(select(Consultation.id).where(Consultation.version_id == version.id))
    if taken is not None:
        raise Conflict(_("This version is already open for comments."), code="already_open")
    members = sorted(set(fields.members)) if fields.audience == ConsultationAudience.NAMED else []
    known = set(db.session.scalars(select(Participant.id).where(
        Participant.meeting_id == meeting.id, Participant.id.in_(members))))
    if missing := [pid for pid in members if pid not in known]:
        raise InvalidInput("Some members are not participants of this meeting.",
                           fields={"members": f"unknown participants: {missing}"})
    consultation = Consultation(
        meeting_id=meeting.id, document_id=document.id, version_id=version.id,
        title=fields.title or document.title, audience=fields.audience,
        deadline=fields.deadline, opened_at=utcnow(),
        opened_by_id=actor.user.id if actor.user else None,
        members=[ConsultationMember(participant_id=pid) for pid in members])
    db.session.add(consultation)
    db.session.flush()
    audit.record("draft.open", "consultation", consultation.id, actor=actor, meeting_id=meeting.id,
                 payload={"document_id": document.id, "version": version.number,
                          "audience": fields.audience.value, "members": members,
                          "deadline": iso(fields.deadline)})
    _announce(consultation, "draft.opened")
    return consultation


def update_consultation(actor: Actor | None, consultation_id: int,
                        deadline: datetime) -> Consultation:
    """Move the deadline; a deadline in the past closes the consultation now."""
    consultation = _get(consultation_id)
    get_meeting(consultation.meeting_id, actor, Permission.PREPARE)
    consultation.deadline = max(deadline, consultation.opened_at)
    db.session.flush()
    audit.record("draft.deadline", "consultation", consultation.id, actor=actor,
                 meeting_id=consultation.meeting_id,
                 payload={"deadline": iso(consultation.deadline)})
    _announce(consultation, "draft.changed")
    return consultation


def _announce(consultation: Consultation, type_: str) -> None:
    body = payload(consultation)
    body.pop("can_comment")
    for audience in audiences(consultation):
        events.publish(consultation.meeting_id, type_, body, audience)


def _get(consultation_id: int) -> Consultation:
    consultation = db.session.get(Consultation, consultation_id)
    if consultation is None:
        raise NotFound("No such consultation.")
    return consultation


def seen_by(actor: Actor | None, consultation_id: int) -> Seen:
    """The consultation if the actor may see it (staff, or a participant who may comment)."""
    consultation = _get(consultation_id)
    meeting = get_meeting(consultation.meeting_id, actor, Permission.VIEW)
    version = db.session.get(DocumentVersion, consultation.version_id)
    return _seen(actor, consultation, meeting, version) or _not_found()


def _not_found():
    raise NotFound("No such consultation.")


def _seen(actor: Actor, consultation: Consultation, meeting: Meeting,
          version: DocumentVersion) -> Seen | None:
    staff = Permission.STAFF_VIEW in permissions(actor, meeting)
    participant = participant_of(actor, meeting)
    if participant is not None:
        document = db.session.get(Document, consultation.document_id)
        readable = read_right(actor, document, meeting, version) is not None
        if not (readable and in_audience(consultation, participant)):
            participant = None
    if not staff and participant is None:
        return None
    return Seen(consultation, meeting, version, staff, participant)


def visible(actor: Actor | None, meeting_id: int) -> list[Seen]:
    """The meeting's consultations the actor may see, in the order they were opened."""
    meeting = get_meeting(meeting_id, actor, Permission.VIEW)
    found = db.session.scalars(select(Consultation).where(Consultation.meeting_id == meeting.id)
                               .order_by(Consultation.opened_at, Consultation.id))
    result = []
    for consultation in found:
        version = db.session.get(DocumentVersion, consultation.version_id)
        seen = _seen(actor, consultation, meeting, version)
        if seen is not None:
            result.append(seen)
    return result
