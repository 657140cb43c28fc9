"""REST endpoints: meeting documents, their versions and pages; push and present."""
from __future__ import annotations

from flask import Response, request, send_file
from pydantic import ValidationError

from server.api.blueprint import bp
from server.api.meetings import respond
from server.api.spec import endpoint
from server.auth import current_actor, current_actor_with
from server.errors import InvalidInput, NotAuthenticated, invalid_from_validation
from server.extensions import db
from server.schemas.documents import (
    DocumentOut, DocumentSearchOut, DocumentSearchQuery, DocumentUpdate, DocumentUpload,
    DocumentUploadForm, PageQuery, PageTextOut,
    PresentedOut, PresentIn, PushedOut, PushIn, UploadNotices, UploadOut, VersionUploadForm,
)
from server.services.documents import access as document_access, documents, pages as page_images
from server.services.documents.search import search_documents
from server.services.access import Permission, get_meeting
from server.services.documents.ingest import Upload, save_upload

PREPARERS = "secretaries and admins (Permission.PREPARE), until the meeting is sealed"
READERS = ("participants the document is addressed to and staff; confidential documents only "
           "as watermarked page images for participants")
UPLOAD_ERRORS = (404, 413, 415)
IMMUTABLE = "private, max-age=31536000, immutable"
NO_STORE = "private, no-store"


def _actor():
    actor = current_actor()
    if actor is None:
        raise NotAuthenticated("Log in first.")
    return actor


def _saved_upload() -> Upload:
    """The multipart ``file`` streamed to a temporary file in the data directory."""
    file = request.files.get("file")
    if file is None or not file.filename:
        raise InvalidInput("Attach the file in the `file` field.", fields={"file": "required"})
    return save_upload(file)


def _form(model):
    data = {}
    for key in request.form:
        values = request.form.getlist(key)
        data[key] = values if key == "readers" else values[-1]
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise invalid_from_validation(exc) from None


def _uploaded(document, version, notices, status: int):
    db.session.commit()
    page_images.schedule_render(version.id)
    _doc, _version, right = document_access.readable_document(current_actor(), document.id)
    return respond(UploadOut(document=documents.describe(document, right),
                             notices=UploadNotices(**notices)), status)


@bp.post("/meetings/<int:meeting_id>/documents")
@endpoint("Upload a PDF (or an office file, converted when LibreOffice is installed) as a new "
          "document; it is validated in a sandbox before it is accepted", tag="documents",
          body=DocumentUploadForm, content_type="multipart/form-data", response=UploadOut,
          status=201, errors=UPLOAD_ERRORS, auth=PREPARERS)
def upload_document(meeting_id: int):
    actor = _actor()
    fields = _form(DocumentUpload)
    upload = _saved_upload()
    try:
        document, version, notices = documents.upload_document(actor, meeting_id, upload, fields)
        return _uploaded(document, version, notices, 201)
    finally:
        upload.path.unlink(missing_ok=True)


@bp.get("/meetings/<int:meeting_id>/documents")
@endpoint("The meeting's documents you may read", tag="documents", response=list[DocumentOut],
          errors=(404,), auth="anyone who can see the meeting; each sees the documents addressed to them")
def list_documents(meeting_id: int):
    actor = _actor()
    meeting = get_meeting(meeting_id, actor, Permission.VIEW)
    return respond([documents.describe(d, r) for d, r in document_access.visible_documents(actor, meeting)])


@bp.get("/meetings/<int:meeting_id>/documents/search")
@endpoint("Pages of the meeting's documents holding every word of `q`, diacritics optional "
          "(scanned pages by their OCR text); with `document_id`, find in that document",
          tag="documents", query=DocumentSearchQuery, response=DocumentSearchOut,
          errors=(404,), auth=READERS + "; confidential documents are searched for staff only")
def search_meeting_documents(meeting_id: int, query: DocumentSearchQuery):
    found = search_documents(_actor(), meeting_id, query.q, query.document_id)
    return respond(DocumentSearchOut(**found))


@bp.get("/documents/<int:document_id>")
@endpoint("One document with its versions", tag="documents", response=DocumentOut,
          errors=(404,), auth=READERS)
def get_document(document_id: int):
    document, _version, right = document_access.readable_document(_actor(), document_id)
    return respond(documents.describe(document, right))


@bp.patch("/documents/<int:document_id>")
@endpoint("Change title, agenda item, access, confidentiality, readers or position",
          tag="documents", body=DocumentUpdate, response=DocumentOut, errors=(404,), auth=PREPARERS)
def update_document(document_id: int, body: DocumentUpdate):
    actor = _actor()
    document = documents.update_document(actor, document_id, body)
    db.session.commit()
    _doc, _version, right = document_access.readable_document(actor, document.id)
    return respond(documents.describe(document, right))


@bp.delete("/documents/<int:document_id>")
@endpoint("Remove a document and all its versions", tag="documents", status=204,
          errors=(404,), auth=PREPARERS)
def delete_document(document_id: int):
    documents.delete_document(_actor(), document_id)
    db.session.commit()
    return "", 204


@bp.post("/documents/<int:document_id>/versions")
@endpoint("Replace the document with a new version; annotations on unchanged pages carry over",
          tag="documents", body=VersionUploadForm, content_type="multipart/form-data",
          response=UploadOut, status=201, errors=UPLOAD_ERRORS, auth=PREPARERS)
def add_version(document_id: int):
    actor = _actor()
    upload = _saved_upload()
    try:
        document, version, notices = documents.add_version(actor, document_id, upload)
        return _uploaded(document, version, notices, 201)
    finally:
        upload.path.unlink(missing_ok=True)


@bp.get("/documents/<int:document_id>/versions/<int:number>/pages/<int:page>.<ext>")
@endpoint("A page image (`png` or `jpg`; `size=large` 1600 px wide or `thumb` 400 px). "
          "Clean pages carry a strong ETag and are cacheable; confidential pages for "
          "participants carry the reader's watermark and are never cached. Behind nginx "
          "with HEMICYCLE_ACCEL_REDIRECT, clean pages are sent by nginx from the page cache "
          "(X-Accel-Redirect) after this check",
          tag="documents", query=PageQuery, response_content_type="image/png",
          errors=(304, 404), auth=READERS)
def page_image(document_id: int, number: int, page: int, ext: str, query: PageQuery):
    # A tablet's token, its device and participant, the document, version and meeting: one
    # statement (see docs/PERFORMANCE.md, "Page serving, second pass").
    actor, found = current_actor_with(
        lambda token: document_access.reading_for_token(token, document_id, number))
    if actor is None:
        raise NotAuthenticated("Log in first.")
    plan = page_images.plan_page(actor, document_id, number, page, query.size, ext, found)
    headers = {"Cache-Control": IMMUTABLE if plan.cacheable else NO_STORE}
    if plan.etag is not None:
        headers["ETag"] = f'"{plan.etag}"'
        if plan.etag in request.if_none_match:
            return Response(status=304, headers=headers)
    # Everything the image needs is loaded: give the connection back before a watermark is
    # stamped (thread pool) or a missing page rendered (sandbox), both of which let other
    # requests run meanwhile; 200 tablets must not wait for the pool's 15 connections.
    db.session.close()
    accel = page_images.accel_redirect(plan)
    if accel is not None:  # nginx sends the cached file (docs/DEPLOYMENT.md, "Page images")
        return Response(status=200, mimetype=plan.mimetype,
                        headers={**headers, "X-Accel-Redirect": accel})
    return Response(page_images.page_bytes(plan), mimetype=plan.mimetype, headers=headers)


@bp.get("/documents/<int:document_id>/versions/<int:number>/pages/access")
@endpoint("For the proxy in front of the workers (docs/DEPLOYMENT.md, \"Page images\"): "
          "whether the caller may have this version's page images as the same file for "
          "every reader. 204; with `X-Hemicycle-Pages` (the version's folder in the page "
          "cache) and `X-Hemicycle-Cache-Control` when they may, without them when their pages "
          "are watermarked for them. nginx keeps the answer a few seconds per caller and sends "
          "the files itself; a page route answers anything else. With "
          "HEMICYCLE_PAGE_LINK_SECRET, a non-confidential version's answer also carries "
          "`X-Hemicycle-Page-Link`: a query (`pf`, `pe`, `pl`) the tablet adds to the page "
          "URLs so that nginx sends them without asking again until it expires",
          tag="documents", status=204, errors=(404,), auth=READERS)
def page_access(document_id: int, number: int):
    actor, found = current_actor_with(
        lambda token: document_access.reading_for_token(token, document_id, number))
    if actor is None:
        raise NotAuthenticated("Log in first.")
    headers = page_images.shared_pages(actor, document_id, number, found)
    if headers:
        headers["X-Hemicycle-Cache-Control"] = IMMUTABLE if headers.pop("cacheable") else NO_STORE
    return Response(status=204, headers=headers)


@bp.get("/documents/<int:document_id>/versions/<int:number>/pages/<int:page>/text")
@endpoint("A page's text (not for confidential documents, except to staff)", tag="documents",
          response=PageTextOut, errors=(404,), auth=READERS)
def page_text(document_id: int, number: int, page: int):
    text = page_images.page_text(_actor(), document_id, number, page)
    return respond(PageTextOut(document_id=document_id, version=number, page=page, text=text))


@bp.get("/documents/<int:document_id>/versions/<int:number>/pdf")
@endpoint("The PDF file (staff; participants only for non-confidential documents)",
          tag="documents", response_content_type="application/pdf", errors=(304, 404),
          auth="staff, and participants the document is addressed to unless it is confidential")
def document_pdf(document_id: int, number: int):
    path, version = page_images.pdf_file(_actor(), document_id, number)
    response = send_file(path, mimetype="application/pdf", as_attachment=True,
                         download_name=version.filename, etag=version.blob_sha256,
                         conditional=True, max_age=None)
    response.headers["Cache-Control"] = NO_STORE if version.document.confidential else "private, no-cache"
    return response


@bp.post("/meetings/<int:meeting_id>/present")
@endpoint("Show a page on the projector; tablets following the presenter turn to it",
          tag="documents", body=PresentIn, response=PresentedOut, errors=(404, 409),
          auth="the chair and the secretaries (Permission.RUN or CHAIR)")
def present(meeting_id: int, body: PresentIn):
    version = documents.present(_actor(), meeting_id, body.version_id, body.page)
    db.session.commit()
    return respond(PresentedOut(meeting_id=meeting_id, document_id=version.document_id,
                                version_id=version.id, page=body.page))


@bp.post("/meetings/<int:meeting_id>/push")
@endpoint("Open a document on every tablet that may read it", tag="documents", body=PushIn,
          response=PushedOut, errors=(404,),
          auth="the chair and the secretaries (Permission.RUN or CHAIR)")
def push(meeting_id: int, body: PushIn):
    document = documents.push(_actor(), meeting_id, body.document_id)
    db.session.commit()
    return respond(PushedOut(meeting_id=meeting_id, document_id=document.id,
                             version_id=document.current_version.id))
