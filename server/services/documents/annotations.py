"""A delegate's annotations: ink, highlights and notes on document pages, as vectors.

Annotations belong to a participant and are private unless shared with the
room. The client chooses each annotation's UUID, so saving is an idempotent
upsert: a tablet replaying its offline queue never makes duplicates, and a
save that changes nothing publishes nothing. Erasing is final: a deleted
annotation is never brought back by a late replay of an earlier save (undoing
an erase creates a copy with a new id).

Saved annotations are announced to the owner's other devices
(``participant:<id>``) and, when shared, to everyone who may read the
document. Private ink is not written to the audit log: it is a personal note,
not an act of the meeting, and the audit chain goes into the public archive.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select

from server.errors import Conflict, Forbidden, InvalidInput, NotFound
from server.extensions import db
from server.models import (
    Annotation, AnnotationKind, Document, DocumentVersion, Meeting, MeetingStatus, Participant,
    utcnow,
)
from server.services import events
from server.services.access import participant_of
from server.services.actors import Actor
from server.services.documents.access import ReadRight, audiences, readable_document
from server.services.timestamps import iso

# Enough for a heavily marked-up document, small enough that one tablet cannot fill the disk.
MAX_PER_VERSION = 5000


@dataclass(frozen=True)
class AnnotationFields:
    """What a client may set on an annotation (already validated in shape at the edge)."""

    version_id: int
    page_number: int
    kind: AnnotationKind
    shared: bool
    data: dict


def payload(annotation: Annotation, document_id: int | None = None) -> dict:
    """An annotation as the API and the socket events show it."""
    return {
        "id": annotation.id,
        "document_id": document_id,
        "version_id": annotation.version_id,
        "page_number": annotation.page_number,
        "participant_id": annotation.participant_id,
        "kind": annotation.kind.value,
        "shared": annotation.shared,
        "data": annotation.data,
        "created_at": iso(annotation.created_at),
        "updated_at": iso(annotation.updated_at),
        "deleted": annotation.deleted_at is not None,
        "carried_from_id": annotation.carried_from_id,
    }


def _reader(actor: Actor | None, version_id: int) -> tuple[DocumentVersion, Meeting, Participant, ReadRight]:
    """The version (readable by the actor) and the actor's participant in its meeting."""
    version = db.session.get(DocumentVersion, version_id)
    if version is None:
        raise NotFound("No such document version.", fields={"version_id": "unknown version"})
    _document, _v, right = readable_document(actor, version.document_id, version.number)
    meeting = db.session.get(Meeting, version.document.meeting_id)
    participant = participant_of(actor, meeting)
    if participant is None:
        raise Forbidden("Only the meeting's participants can annotate its documents.",
                        code="not_participant")
    return version, meeting, participant, right


def _writable(meeting: Meeting) -> None:
    if meeting.status == MeetingStatus.SEALED:
        raise Conflict("The meeting is sealed: annotations can no longer change.", code="sealed")


def _announce(annotation: Annotation, version: DocumentVersion, *, was_shared: bool) -> None:
    document = version.document
    body = payload(annotation, document.id)
    owner = f"participant:{annotation.participant_id}"
    room = audiences(document)
    if annotation.shared and annotation.deleted_at is None:
        targets = room if "all" in room else sorted(set(room) | {owner})
        for audience in targets:
            events.publish(document.meeting_id, "annotation.saved", body, audience)
        return
    events.publish(document.meeting_id, "annotation.saved", body, owner)
    if was_shared:
        gone = {"id": annotation.id, "document_id": document.id, "version_id": version.id,
                "page_number": annotation.page_number, "participant_id": annotation.participant_id}
        for audience in room:
            if audience != owner:
                events.publish(document.meeting_id, "annotation.removed", gone, audience)


def save_annotation(actor: Actor | None, annotation_id: str, fields: AnnotationFields) -> Annotation:
    """Create or replace the actor's annotation ``annotation_id``; the same call again changes nothing.

    Refuses another participant's annotation (404), a version the actor may not
    read (404), a page outside the version, and any change once the meeting is sealed.
    A deleted annotation stays deleted and is answered as it is.
    """
    version, meeting, participant, _right = _reader(actor, fields.version_id)
    if not 1 <= fields.page_number <= version.page_count:
        raise InvalidInput(f"The document has {version.page_count} pages.",
                           fields={"page_number": f"1 to {version.page_count}"})
    existing = db.session.get(Annotation, annotation_id)
    if existing is not None and existing.participant_id != participant.id:
        raise NotFound("No such annotation.")  # somebody else's id: do not confirm it exists
    if existing is not None and existing.deleted_at is not None:
        return existing
    _writable(meeting)
    if existing is None:
        count = db.session.scalar(select(func.count()).select_from(Annotation).where(
            Annotation.version_id == version.id, Annotation.participant_id == participant.id))
        if count >= MAX_PER_VERSION:
            raise Conflict("Too many annotations on this document.", code="too_many_annotations")
        annotation = Annotation(id=annotation_id, participant_id=participant.id,
                                version_id=version.id, page_number=fields.page_number,
                                kind=fields.kind, shared=fields.shared, data=fields.data,
                                created_at=utcnow(), updated_at=utcnow())
        db.session.add(annotation)
        db.session.flush()
        _announce(annotation, version, was_shared=False)
        return annotation
    if existing.version_id != version.id:
        raise Conflict("This annotation belongs to another version.", code="version_mismatch")
    unchanged = (existing.page_number == fields.page_number and existing.kind == fields.kind
                 and existing.shared == fields.shared and existing.data == fields.data)
    if unchanged:
        return existing
    was_shared = existing.shared
    existing.page_number, existing.kind = fields.page_number, fields.kind
    existing.shared, existing.data = fields.shared, dict(fields.data)
    existing.updated_at = utcnow()
    db.session.flush()
    _announce(existing, version, was_shared=was_shared)
    return existing


def delete_annotation(actor: Actor | None, annotation_id: str) -> Annotation:
    """Erase the actor's annotation for good (again: no change). 404 for unknown or others' ids."""
    annotation = db.session.get(Annotation, annotation_id)
    if annotation is None:
        raise NotFound("No such annotation.")
    version, meeting, participant, _right = _reader(actor, annotation.version_id)
    if annotation.participant_id != participant.id:
        raise NotFound("No such annotation.")
    if annotation.deleted_at is not None:
        return annotation
    _writable(meeting)
    was_shared = annotation.shared
    annotation.deleted_at = utcnow()
    annotation.updated_at = annotation.deleted_at
    db.session.flush()
    _announce(annotation, version, was_shared=was_shared)
    return annotation


def _version_of(actor: Actor | None, document_id: int, number: int) -> tuple[Document, DocumentVersion, ReadRight]:
    document, version, right = readable_document(actor, document_id, number)
    return document, version, right


def list_annotations(actor: Actor | None, document_id: int, number: int) -> list[Annotation]:
    """On one version: the actor's own live annotations and those others shared, oldest first."""
    _document, version, _right = _version_of(actor, document_id, number)
    meeting = db.session.get(Meeting, _document.meeting_id)
    participant = participant_of(actor, meeting)
    mine = Annotation.participant_id == participant.id if participant else False
    return list(db.session.scalars(
        select(Annotation)
        .where(Annotation.version_id == version.id, Annotation.deleted_at.is_(None),
               or_(mine, Annotation.shared.is_(True)))
        .order_by(Annotation.created_at, Annotation.id)
    ))


def my_annotations(actor: Actor | None, document_id: int, number: int) -> tuple[DocumentVersion, ReadRight, list[Annotation]]:
    """The version, the actor's read right and the actor's own live annotations (for export)."""
    document, version, right = _version_of(actor, document_id, number)
    meeting = db.session.get(Meeting, document.meeting_id)
    participant = participant_of(actor, meeting)
    if participant is None:
        raise Forbidden("Only the meeting's participants have annotations to export.",
                        code="not_participant")
    found = db.session.scalars(
        select(Annotation)
        .where(Annotation.version_id == version.id, Annotation.participant_id == participant.id,
               Annotation.deleted_at.is_(None))
        .order_by(Annotation.page_number, Annotation.created_at, Annotation.id))
    return version, right, list(found)
