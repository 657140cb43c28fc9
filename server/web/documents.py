"""The secretary's documents page: upload, replace, settings and removal, per agenda item.

Plain forms posting back here (multipart for files), handled by the same
services and pydantic models as the REST API.
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from pydantic import ValidationError

from server.auth import current_actor
from server.errors import HemicycleError, fields_from_validation
from server.extensions import db
from server.models import DocumentAccess
from server.schemas.documents import DocumentSearchQuery, DocumentUpdate, DocumentUpload
from server.services.documents import access as document_access, documents, pages as page_images
from server.services.access import Permission, get_meeting
from server.services.documents.ingest import save_upload
from server.services.documents.search import search_documents
from server.web.meetings.common import local

bp = Blueprint("documents", __name__, url_prefix="/meetings")


@bp.context_processor
def _helpers():
    return {"local": local, "DocumentAccess": DocumentAccess}


def _fields() -> dict:
    """The settings fields of a form, as the API models expect them."""
    return {
        "title": request.form.get("title", "").strip() or None,
        "agenda_item_id": request.form.get("agenda_item_id") or None,
        "access": request.form.get("access") or DocumentAccess.ALL.value,
        "confidential": request.form.get("confidential") == "on",
        "readers": request.form.getlist("readers"),
    }


def _search(meeting_id: int) -> tuple[dict | None, dict]:
    """The search box's answer, when a search was asked for: (found, errors)."""
    if "q" not in request.args:
        return None, {}
    try:
        query = DocumentSearchQuery.model_validate({"q": request.args.get("q", "")})
        return search_documents(current_actor(), meeting_id, query.q), {}
    except (ValidationError, HemicycleError):
        return None, {"q": _("Type at least one word to search for.")}


def _page(meeting_id: int, errors: dict | None = None, status: int = 200):
    actor = current_actor()
    meeting = get_meeting(meeting_id, actor, Permission.PREPARE)
    found, search_errors = _search(meeting_id)
    listed = document_access.visible_documents(actor, meeting)
    by_item: dict[int | None, list] = {}
    for document, right in listed:
        by_item.setdefault(document.agenda_item_id, []).append(documents.describe(document, right))
    items = sorted(meeting.agenda_items, key=lambda i: (i.parent_id is not None, i.position))
    participants = sorted(meeting.participants, key=lambda p: p.full_name)
    names = {p.id: p.full_name for p in participants}
    return render_template("documents/index.html", meeting=meeting, items=items,
                           by_item=by_item, participants=participants, names=names,
                           found=found, query=request.args.get("q", ""),
                           errors={**search_errors, **(errors or {})}), status


def _failed(meeting_id: int, exc: Exception):
    db.session.rollback()
    if isinstance(exc, ValidationError):
        fields = fields_from_validation(exc)
        return _page(meeting_id, {**fields, "form": _("Some fields are invalid.")}, 422)
    assert isinstance(exc, HemicycleError)
    return _page(meeting_id, {**exc.fields, "form": exc.message}, exc.status)


@bp.get("/<int:meeting_id>/documents")
@login_required
def index(meeting_id: int):
    return _page(meeting_id)


@bp.post("/<int:meeting_id>/documents")
@login_required
def upload(meeting_id: int):
    file = request.files.get("file")
    if file is None or not file.filename:
        return _page(meeting_id, {"file": _("Choose a file."), "form": _("Choose a file.")}, 422)
    upload = save_upload(file)
    try:
        fields = DocumentUpload.model_validate(_fields())
        document, version, notices = documents.upload_document(current_actor(), meeting_id,
                                                               upload, fields)
        db.session.commit()
    except (ValidationError, HemicycleError) as exc:
        return _failed(meeting_id, exc)
    finally:
        upload.path.unlink(missing_ok=True)
    page_images.schedule_render(version.id)
    _notify(notices, _("“%(title)s” was uploaded (%(pages)d pages).", title=document.title,
                       pages=version.page_count))
    return redirect(url_for("documents.index", meeting_id=meeting_id))


@bp.post("/<int:meeting_id>/documents/<int:document_id>/versions")
@login_required
def new_version(meeting_id: int, document_id: int):
    file = request.files.get("file")
    if file is None or not file.filename:
        return _page(meeting_id, {"form": _("Choose a file.")}, 422)
    upload = save_upload(file)
    try:
        document, version, notices = documents.add_version(current_actor(), document_id, upload)
        db.session.commit()
    except HemicycleError as exc:
        return _failed(meeting_id, exc)
    finally:
        upload.path.unlink(missing_ok=True)
    page_images.schedule_render(version.id)
    _notify(notices, _("Version %(number)d of “%(title)s” is now on the tablets.",
                       number=version.number, title=document.title))
    return redirect(url_for("documents.index", meeting_id=meeting_id))


@bp.post("/<int:meeting_id>/documents/<int:document_id>/settings")
@login_required
def settings(meeting_id: int, document_id: int):
    try:
        changes = DocumentUpdate.model_validate(_fields())
        documents.update_document(current_actor(), document_id, changes)
        db.session.commit()
    except (ValidationError, HemicycleError) as exc:
        return _failed(meeting_id, exc)
    flash(_("The document's settings were saved."), "success")
    return redirect(url_for("documents.index", meeting_id=meeting_id))


@bp.post("/<int:meeting_id>/documents/<int:document_id>/delete")
@login_required
def delete(meeting_id: int, document_id: int):
    try:
        documents.delete_document(current_actor(), document_id)
        db.session.commit()
    except HemicycleError as exc:
        return _failed(meeting_id, exc)
    flash(_("The document was removed."), "success")
    return redirect(url_for("documents.index", meeting_id=meeting_id))


def _notify(notices: dict, message: str) -> None:
    flash(message, "success")
    if notices.get("repaired"):
        flash(_("The file was damaged and has been repaired: check that every page is there."), "warning")
    if notices.get("javascript_removed"):
        flash(_("Scripts and other active content were removed from the file."), "warning")
    if notices.get("annotations_carried"):
        flash(_("%(count)d annotations were kept on unchanged pages.",
                count=notices["annotations_carried"]), "info")
