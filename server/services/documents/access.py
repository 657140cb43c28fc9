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

import functools
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, exists, select
from sqlalchemy.orm import contains_eager

from server.errors import Forbidden, NotAuthenticated, NotFound
from server.extensions import db
from server.models import (
    Device, Document, DocumentAccess, DocumentReader, DocumentVersion, Meeting, Participant,
)
from server.services.access import Permission, participant_of, permissions
from server.services.actors import Actor
from server.services.tokens import live_device, lookup_digest


@dataclass(frozen=True)
class ReadRight:
    pdf: bool  # the file itself (and its text)
    watermark: bool  # page images must carry the reader's watermark
    reader: str  # who the watermark names
    staff: bool = False
    mark: str = ""  # whose invisible mark: "participant:<id>" or "projector:<device id>"


def _is_reader(document: Document, participant: Participant) -> bool:
    return any(r.participant_id == participant.id for r in document.readers)


@dataclass(frozen=True)
class Reading:
    """A document (and version) the actor may read, with the rows the decision used: callers
    keep them instead of loading them again (the session's identity map is weak)."""

    document: Document
    version: DocumentVersion | None
    meeting: Meeting
    right: ReadRight


@dataclass(frozen=True)
class Found:
    """Rows loaded for a decision, not decided yet (``reading_for_token``)."""

    document: Document | None
    version: DocumentVersion | None
    meeting: Meeting | None
    named: bool | None  # the device's participant is a named reader of the document


def read_right(actor: Actor | None, document: Document, meeting: Meeting,
               version: DocumentVersion | None = None, *,
               named: bool | None = None) -> ReadRight | None:
    """What the actor may read of this document, or None when they may not see it at all.

    ``named``: whether the actor's participant is among the document's readers, when the
    caller's query already answered it (a device's participant only); else it is read from
    ``document.readers``.
    """
    if actor is None:
        return None
    granted = permissions(actor, meeting)
    if Permission.STAFF_VIEW in granted:
        return ReadRight(pdf=True, watermark=False, reader="", staff=True)
    if actor.kind == "projector":
        presented = version is not None and meeting.presented_version_id == version.id
        if Permission.WATCH in granted and presented and document.access == DocumentAccess.ALL:
            return ReadRight(pdf=False, watermark=document.confidential,
                             reader=f"Projector #{actor.device.id}",
                             mark=f"projector:{actor.device.id}")
        return None
    if Permission.VIEW not in granted:
        return None
    participant = participant_of(actor, meeting)
    if participant is None:
        return None
    if document.access == DocumentAccess.STAFF:
        return None
    if document.access == DocumentAccess.NAMED:
        if named is None or actor.device is None:
            named = _is_reader(document, participant)
        if not named:
            return None
    return ReadRight(pdf=not document.confidential, watermark=document.confidential,
                     reader=f"{participant.full_name} (#{participant.id})",
                     mark=f"participant:{participant.id}")


def readable_document(actor: Actor | None, document_id: int,
                      version_number: int | None = None) -> tuple[Document, DocumentVersion | None, ReadRight]:
    """The document (and version) if the actor may see it; NotFound otherwise."""
    reading = readable(actor, document_id, version_number)
    return reading.document, reading.version, reading.right


def readable(actor: Actor | None, document_id: int, version_number: int | None = None,
             found: Found | None = None) -> Reading:
    """The document, its meeting (and the version) if the actor may see them; NotFound
    otherwise. One statement for the rows (two when a named document needs its readers and
    the actor is not a device); ``found`` passes rows already loaded with the token."""
    if actor is None:
        raise NotAuthenticated("Log in first.")
    if found is None:
        found = _find(actor, document_id, version_number)
    document, version, meeting = found.document, found.version, found.meeting
    if document is None:
        raise NotFound("No such document.")
    right = read_right(actor, document, meeting, version, named=found.named)
    if right is None or (version_number is not None and version is None):
        raise NotFound("No such document.")
    return Reading(document, version, meeting, right)


def _join_version(statement):
    """The document's version numbered ``:number``, or NULLs when it has none."""
    return statement.outerjoin(DocumentVersion, and_(
        DocumentVersion.document_id == Document.id,
        DocumentVersion.number == bindparam("number")))


# The statements are built once and run with bound parameters: building a SQLAlchemy
# statement with its joins costs more than running it (docs/PERFORMANCE.md).
@functools.cache
def _rows_statement(with_version: bool, named: bool):
    """Document and meeting (and the version numbered ``:number``) of ``:document_id``;
    with ``named``, whether participant ``:participant_id`` is one of its readers."""
    columns = [Document, Meeting] + ([DocumentVersion] if with_version else [])
    statement = (select(*columns).join(Meeting, Meeting.id == Document.meeting_id)
                 .where(Document.id == bindparam("document_id")))
    if with_version:
        statement = _join_version(statement)
    if named:
        statement = statement.add_columns(exists().where(
            DocumentReader.document_id == Document.id,
            DocumentReader.participant_id == bindparam("participant_id")))
    return statement


@functools.cache
def _token_statement(with_version: bool):
    """The live device holding ``:token_sha256`` with its participant, then what
    ``_rows_statement`` selects (outer-joined: an unknown document still finds the device)."""
    columns = [Document, Meeting] + ([DocumentVersion] if with_version else [])
    named = exists().where(DocumentReader.document_id == Document.id,
                           DocumentReader.participant_id == Device.participant_id)
    statement = (select(Device, *columns, named).select_from(Device)
                 .outerjoin(Participant, Participant.id == Device.participant_id)
                 .outerjoin(Document, Document.id == bindparam("document_id"))
                 .outerjoin(Meeting, Meeting.id == Document.meeting_id))
    if with_version:
        statement = _join_version(statement)
    return statement.options(contains_eager(Device.participant)).where(live_device())


def _found(row, with_version: bool, named=None) -> Found:
    version = row[2] if with_version else None
    return Found(row[0], version, row[1], None if named is None else bool(named))


def _find(actor: Actor, document_id: int, version_number: int | None) -> Found:
    with_version = version_number is not None
    participant_id = actor.device.participant_id if actor.device is not None else None
    named = participant_id is not None
    row = db.session.execute(_rows_statement(with_version, named), {
        "document_id": document_id, "number": version_number,
        "participant_id": participant_id}).first()
    if row is None:
        return Found(None, None, None, None)
    return _found(row, with_version, row[-1] if named else None)


def reading_for_token(token: str, document_id: int,
                      version_number: int | None) -> tuple[Device | None, Found | None]:
    """In one statement: the live (not revoked) device holding the bearer token, with its
    participant, and the rows ``readable`` decides on. ``(None, None)`` for an unknown or
    revoked token. Nothing is decided here: pass both to ``readable``."""
    digest = lookup_digest(token)
    if digest is None:
        return None, None
    with_version = version_number is not None
    row = db.session.execute(_token_statement(with_version), {
        "token_sha256": digest, "document_id": document_id, "number": version_number}).first()
    if row is None:
        return None, None
    return row[0], _found(row[1:], with_version, row[-1])


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
