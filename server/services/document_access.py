"""Who may read which meeting document, and in what form.

Staff (``Permission.STAFF_VIEW``: chairs, secretaries, admin and secretary
accounts) read every document of the meeting in full. A participant sees the
documents for all participants and those naming them. A confidential
document reaches a participant only as page images with their watermark:
never the PDF, the text or a clean image. A projector sees the presented
version's page images only. Anything else answers 404, so a delegate cannot
even learn that a document exists.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from server.errors import Forbidden, NotAuthenticated, NotFound
from server.extensions import db
from server.models import Document, DocumentAccess, DocumentVersion, Meeting, Participant
from server.services.access import Permission, participant_of, permissions
from server.services.actors import Actor


@dataclass(frozen=True)
class ReadRight:
    pdf: bool  # the file itself (and its text)
    watermark: bool  # page images must carry the reader's watermark
    reader: str  # who the watermark names
    staff: bool = False


def _is_reader(document: Document, participant: Participant) -> bool:
    return any(r.participant_id == participant.id for r in document.readers)


def read_right(actor: Actor | None, document: Document, meeting: Meeting,
               version: DocumentVersion | None = None) -> ReadRight | None:
    """What the actor may read of this document, or None when they may not see it at all."""
    if actor is None:
        return None
    granted = permissions(actor, meeting)
    if Permission.STAFF_VIEW in granted:
        return ReadRight(pdf=True, watermark=False, reader="", staff=True)
    if actor.kind == "projector":
        presented = version is not None and meeting.presented_version_id == version.id
        if Permission.WATCH in granted and presented and document.access == DocumentAccess.ALL:
            return ReadRight(pdf=False, watermark=document.confidential,
                             reader=f"Projector #{actor.device.id}")
        return None
    if Permission.VIEW not in granted:
        return None
    participant = participant_of(actor, meeting)
    if participant is None:
        return None
    if document.access == DocumentAccess.STAFF:
        return None
    if document.access == DocumentAccess.NAMED and not _is_reader(document, participant):
        return None
    return ReadRight(pdf=not document.confidential, watermark=document.confidential,
                     reader=f"{participant.full_name} (#{participant.id})")


def readable_document(actor: Actor | None, document_id: int,
                      version_number: int | None = None) -> tuple[Document, DocumentVersion | None, ReadRight]:
    """The document (and version) if the actor may see it; NotFound otherwise."""
    if actor is None:
        raise NotAuthenticated("Log in first.")
    document = db.session.get(Document, document_id)
    if document is None:
        raise NotFound("No such document.")
    meeting = db.session.get(Meeting, document.meeting_id)
    version = None
    if version_number is not None:
        version = next((v for v in document.versions if v.number == version_number), None)
    right = read_right(actor, document, meeting, version)
    if right is None or (version_number is not None and version is None):
        raise NotFound("No such document.")
    return document, version, right


def require_pdf(right: ReadRight) -> None:
    if not right.pdf:
        raise Forbidden("This document is confidential: it can only be read as watermarked pages.",
                        code="confidential")


def visible_documents(actor: Actor, meeting: Meeting) -> list[tuple[Document, ReadRight]]:
    documents = db.session.scalars(
        select(Document).where(Document.meeting_id == meeting.id)
        .order_by(Document.agenda_item_id.is_(None), Document.agenda_item_id, Document.position,
                  Document.id)
    ).all()
    result = []
    for document in documents:
        right = read_right(actor, document, meeting, document.current_version)
        if right is not None:
            result.append((document, right))
    return result


def audiences(document: Document) -> list[str]:
    """The realtime audiences that may hear about this document."""
    if document.access == DocumentAccess.ALL:
        return ["all"]
    if document.access == DocumentAccess.STAFF:
        return ["staff"]
    readers = [r.participant_id for r in document.readers]
    return ["staff"] + [f"participant:{pid}" for pid in sorted(set(readers))]


def watermark_lines(right: ReadRight, meeting: Meeting, now: datetime,
                    zone: str = "Asia/Ho_Chi_Minh") -> tuple[str, ...]:
    """Name, meeting and the room's local time, to the minute (so the per-reader tile
    can be reused for a minute)."""
    local = now.astimezone(ZoneInfo(zone))
    return (right.reader, meeting.title[:80], local.strftime("%d/%m/%Y %H:%M (UTC%z)"))
