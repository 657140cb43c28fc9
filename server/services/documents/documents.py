"""Meeting documents: upload, new versions, settings, removal, pushing and presenting.

Every function follows the one path for a change: check the actor, validate,
change rows, audit, publish; the caller commits, then starts the background
render (``page_images.schedule_render``).
"""
from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select

from server.errors import Conflict, Forbidden, HemicycleError, InvalidInput, NotFound
from server.extensions import db
from server.models import (
    AgendaItem, Annotation, Blob, Document, DocumentAccess, DocumentPage, DocumentReader,
    DocumentVersion, Meeting, Participant, new_uuid,
)
from server.schemas.documents import DocumentOut, DocumentUpdate, DocumentUpload, VersionOut
from server.services import audit, events
from server.services.access import Permission, get_meeting, permissions
from server.services.actors import Actor
from server.services.documents import ocr
from server.services.documents.access import ReadRight, audiences, readable_document
from server.services.documents.ingest import Ingested, Upload, ingest


def _check_agenda_item(meeting: Meeting, item_id: int | None) -> None:
    if item_id is None:
        return
    item = db.session.get(AgendaItem, item_id)
    if item is None or item.meeting_id != meeting.id:
        raise InvalidInput("No such agenda item in this meeting.",
                           fields={"agenda_item_id": "not an item of this meeting"})


def _check_readers(meeting: Meeting, reader_ids: list[int]) -> list[int]:
    wanted = sorted(set(reader_ids))
    found = set(db.session.scalars(
        select(Participant.id).where(Participant.meeting_id == meeting.id, Participant.id.in_(wanted))
    ))
    missing = [pid for pid in wanted if pid not in found]
    if missing:
        raise InvalidInput("Some readers are not participants of this meeting.",
                           fields={"readers": f"unknown participants: {missing}"})
    return wanted


def _publish(document: Document, type_: str, payload: dict, extra_audiences=()) -> None:
    for audience in dict.fromkeys([*audiences(document), *extra_audiences]):
        events.publish(document.meeting_id, type_, payload, audience)


def _ingest_or_refuse(actor: Actor, meeting: Meeting, action: str, upload: Upload,
                      obj_id="") -> Ingested:
    try:
        return ingest(upload)
    except HemicycleError as exc:
        audit.record_refusal(action, "document", obj_id, actor=actor, meeting_id=meeting.id,
                             reason=exc.code)
        raise


def _add_version(document: Document, ingested: Ingested, actor: Actor) -> DocumentVersion:
    number = (document.current_version.number + 1) if document.current_version else 1
    version = DocumentVersion(
        document=document, number=number, blob_sha256=ingested.sha256,
        filename=ingested.filename, source_blob_sha256=ingested.source_sha256,
        page_count=ingested.page_count, pages_rendered=ingested.pages_rendered,
        uploaded_by_id=actor.user.id if actor.user else None,
    )
    pages = [dict(page) for page in ingested.pages]
    states = ocr.initial_states([page.pop("needs_ocr", False) for page in pages])
    version.pages = [DocumentPage(number=index, ocr=state, **page)
                     for index, (page, state) in enumerate(zip(pages, states), start=1)]
    db.session.add(version)
    db.session.flush()
    return version


def upload_document(actor: Actor, meeting_id: int, upload: Upload,
                    fields: DocumentUpload) -> tuple[Document, DocumentVersion, dict]:
    """Validate and store the file, then create the document and its version 1.

    A refused file leaves no row and no stored file behind.
    """
    meeting = get_meeting(meeting_id, actor, Permission.PREPARE)
    _check_agenda_item(meeting, fields.agenda_item_id)
    readers = _check_readers(meeting, fields.readers)
    ingested = _ingest_or_refuse(actor, meeting, "document.upload", upload)
    title = fields.title or ingested.filename.rpartition(".")[0] or ingested.filename
    document = Document(
        meeting_id=meeting.id, agenda_item_id=fields.agenda_item_id, title=title[:500],
        access=fields.access, confidential=fields.confidential,
        created_by_id=actor.user.id if actor.user else None,
        readers=[DocumentReader(participant_id=pid) for pid in readers],
    )
    db.session.add(document)
    db.session.flush()
    version = _add_version(document, ingested, actor)
    audit.record("document.upload", "document", document.id, actor=actor, meeting_id=meeting.id,
                 payload={"version": 1, "sha256": ingested.sha256, "pages": ingested.page_count,
                          "filename": ingested.filename, "access": document.access.value,
                          "confidential": document.confidential,
                          "javascript_removed": ingested.javascript_removed,
                          "repaired": ingested.repaired})
    _publish(document, "document.added", {"document_id": document.id, "version_id": version.id})
    notices = {"repaired": ingested.repaired, "javascript_removed": ingested.javascript_removed}
    return document, version, notices


def same_pages(previous: DocumentVersion, version: DocumentVersion) -> dict[int, int]:
    """Page numbers of ``previous`` -> those of ``version`` with the same content hash.

    Pages are matched by hash in order, so a page that moved (a page inserted before it)
    is found; a changed page is not. What follows a page into a new version (annotations,
    draft comments) follows this map.
    """
    old_pages: dict[str, list[int]] = defaultdict(list)
    for page in sorted(previous.pages, key=lambda p: p.number):
        old_pages[page.content_sha256].append(page.number)
    page_map = {}
    for page in sorted(version.pages, key=lambda p: p.number):
        if old_pages.get(page.content_sha256):
            page_map[old_pages[page.content_sha256].pop(0)] = page.number
    return page_map


def carry_annotations(previous: DocumentVersion, version: DocumentVersion) -> int:
    """Copy live annotations from ``previous`` onto the pages of ``version`` that kept their
    content (``same_pages``)."""
    page_map = same_pages(previous, version)
    annotations = db.session.scalars(
        select(Annotation).where(Annotation.version_id == previous.id, Annotation.deleted_at.is_(None))
    ).all()
    carried = 0
    for old in annotations:
        if old.page_number not in page_map:
            continue
        db.session.add(Annotation(
            id=new_uuid(), version_id=version.id, page_number=page_map[old.page_number],
            participant_id=old.participant_id, kind=old.kind, shared=old.shared,
            data=dict(old.data), created_at=old.created_at, carried_from_id=old.id,
        ))
        carried += 1
    return carried


def _editable_document(actor: Actor, document_id: int) -> tuple[Document, Meeting]:
    document, _version, _right = readable_document(actor, document_id)
    meeting = get_meeting(document.meeting_id, actor, Permission.PREPARE)
    return document, meeting


def add_version(actor: Actor, document_id: int, upload: Upload) -> tuple[Document, DocumentVersion, dict]:
    """Replace the document with a new version; old versions stay readable."""
    document, meeting = _editable_document(actor, document_id)
    previous = document.current_version
    ingested = _ingest_or_refuse(actor, meeting, "document.version", upload, document.id)
    version = _add_version(document, ingested, actor)
    carried = carry_annotations(previous, version) if previous else 0
    audit.record("document.version", "document", document.id, actor=actor, meeting_id=meeting.id,
                 payload={"version": version.number, "sha256": ingested.sha256,
                          "pages": ingested.page_count, "annotations_carried": carried})
    _publish(document, "document.version",
             {"document_id": document.id, "version_id": version.id, "number": version.number,
              "page_count": version.page_count, "previous_version_id": previous.id if previous else None,
              "annotations_carried": carried})
    notices = {"repaired": ingested.repaired, "javascript_removed": ingested.javascript_removed,
               "annotations_carried": carried}
    return document, version, notices


def update_document(actor: Actor, document_id: int, changes: DocumentUpdate) -> Document:
    document, meeting = _editable_document(actor, document_id)
    before = audiences(document)
    sent = changes.model_fields_set
    if "title" in sent and changes.title is None:
        raise InvalidInput("A document needs a title.", fields={"title": "required"})
    if "agenda_item_id" in sent:
        _check_agenda_item(meeting, changes.agenda_item_id)
    for name in ("title", "agenda_item_id", "access", "confidential", "position"):
        value = getattr(changes, name)
        if name in sent and (value is not None or name == "agenda_item_id"):
            setattr(document, name, value)
    if "readers" in sent:
        wanted = _check_readers(meeting, changes.readers or [])
        document.readers = [DocumentReader(participant_id=pid) for pid in wanted]
    db.session.flush()
    audit.record("document.update", "document", document.id, actor=actor, meeting_id=meeting.id,
                 payload=changes.model_dump(mode="json", exclude_unset=True))
    _publish(document, "document.updated", {"document_id": document.id}, extra_audiences=before)
    return document


def delete_document(actor: Actor, document_id: int) -> None:
    document, meeting = _editable_document(actor, document_id)
    if meeting.presented_version_id in {v.id for v in document.versions}:
        meeting.presented_version_id = None
        meeting.presented_page = None
    hearers = audiences(document)
    audit.record("document.delete", "document", document.id, actor=actor, meeting_id=meeting.id,
                 payload={"title": document.title, "versions": len(document.versions)})
    for audience in hearers:
        events.publish(meeting.id, "document.removed", {"document_id": document.id}, audience)
    db.session.delete(document)


def _require_run(actor: Actor, meeting_id: int) -> Meeting:
    meeting = get_meeting(meeting_id, actor, Permission.VIEW)
    if not permissions(actor, meeting) & {Permission.RUN, Permission.CHAIR}:
        raise Forbidden("Only the chair and the secretaries can do this.")
    return meeting


def present(actor: Actor, meeting_id: int, version_id: int, page: int) -> DocumentVersion:
    """Put a page on the projector; tablets that follow the presenter turn to it."""
    meeting = _require_run(actor, meeting_id)
    version = db.session.get(DocumentVersion, version_id)
    if version is None or version.document.meeting_id != meeting.id:
        raise NotFound("No such document version in this meeting.")
    if version.document.access != DocumentAccess.ALL:
        raise Conflict("Only documents for all participants can be presented.", code="not_public")
    if page > version.page_count:
        raise InvalidInput(f"The document has {version.page_count} pages.",
                           fields={"page": f"at most {version.page_count}"})
    meeting.presented_version_id, meeting.presented_page = version.id, page
    audit.record("document.present", "document", version.document_id, actor=actor,
                 meeting_id=meeting.id, payload={"version_id": version.id, "page": page})
    events.publish(meeting.id, "document.presented",
                   {"document_id": version.document_id, "version_id": version.id,
                    "number": version.number, "page": page})
    return version


def push(actor: Actor, meeting_id: int, document_id: int) -> Document:
    """Ask every tablet that may read the document to open it."""
    meeting = _require_run(actor, meeting_id)
    document = db.session.get(Document, document_id)
    if document is None or document.meeting_id != meeting.id or document.current_version is None:
        raise NotFound("No such document in this meeting.")
    version = document.current_version
    audit.record("document.push", "document", document.id, actor=actor, meeting_id=meeting.id,
                 payload={"version_id": version.id})
    _publish(document, "document.pushed", {"document_id": document.id, "version_id": version.id,
                                           "number": version.number, "page_count": version.page_count})
    return document


def describe_version(version: DocumentVersion) -> VersionOut:
    blob = db.session.get(Blob, version.blob_sha256)
    read = ocr.progress_of(version)
    return VersionOut(id=version.id, number=version.number, filename=version.filename,
                      page_count=version.page_count, pages_rendered=version.pages_rendered,
                      sha256=version.blob_sha256, size=blob.size if blob else 0,
                      converted_from=version.source_blob_sha256, uploaded_at=version.uploaded_at,
                      ocr_pages_to_read=read["pages_to_read"], ocr_pages_read=read["pages_read"],
                      ocr_failed=read["failed"])


def describe(document: Document, right: ReadRight) -> DocumentOut:
    versions = [describe_version(v) for v in document.versions]
    return DocumentOut(
        id=document.id, meeting_id=document.meeting_id, agenda_item_id=document.agenda_item_id,
        title=document.title, access=document.access, confidential=document.confidential,
        position=document.position,
        readers=sorted(r.participant_id for r in document.readers) if right.staff else None,
        can_download=right.pdf, watermarked=right.watermark,
        current_version=versions[-1] if versions else None, versions=versions,
    )
