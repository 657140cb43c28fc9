"""The drafting office's pages: open a draft for comments, compile the comments, export.

Plain forms posting back here, handled by the same services and pydantic
models as the REST API (server/api/drafts.py). The exports are the API's
downloads, which the office's session cookie opens.
"""
from __future__ import annotations

from itertools import groupby

from sqlalchemy import select

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from server.auth import current_actor
from server.errors import Conflict, InvalidInput, NotFound
from server.extensions import db
from server.models import (
    CommentKind, CommentResponse, CommentPeriodAudience, Document, DraftComment,
)
from server.schemas.drafts import CommentPeriodIn, CommentPeriodUpdate, MergeIn, ResponseIn
from server.services.access import Permission, get_meeting, permissions
from server.services.drafts import comments, compilation, comment_periods
from server.web.meetings.common import DATETIME_LOCAL, FormError, form_errors, local, parse_form

bp = Blueprint("drafts", __name__, url_prefix="/meetings")


@bp.context_processor
def _helpers():
    return {"local": local, "CommentPeriodAudience": CommentPeriodAudience,
            "CommentKind": CommentKind, "CommentResponse": CommentResponse,
            "DATETIME_LOCAL": DATETIME_LOCAL, "is_open": comment_periods.is_open}


def _index(meeting_id: int, errors: dict | None = None, values: dict | None = None,
           status: int = 200):
    actor = current_actor()
    meeting = get_meeting(meeting_id, actor, Permission.STAFF_VIEW)
    found = comment_periods.visible(actor, meeting.id)
    documents = list(db.session.scalars(select(Document).where(Document.meeting_id == meeting.id)
                                        .order_by(Document.position, Document.id)))
    return render_template(
        "drafts/index.html", meeting=meeting, comment_periods=found,
        documents=documents, participants=sorted(meeting.participants, key=lambda p: p.full_name),
        can_prepare=Permission.PREPARE in permissions(actor, meeting),
        errors=errors or {}, values=values or {"audience": "delegates"}), status


@bp.get("/<int:meeting_id>/drafts")
@login_required
def index(meeting_id: int):
    return _index(meeting_id)


@bp.post("/<int:meeting_id>/drafts")
@login_required
def open_draft(meeting_id: int):
    actor = current_actor()
    get_meeting(meeting_id, actor, Permission.PREPARE)
    values = {name: request.form.get(name, "") for name in ("title", "deadline", "audience")}
    values["members"] = request.form.getlist("members")
    document_id = request.form.get("document_id", "")
    try:
        document = db.session.get(Document, int(document_id)) if document_id.isdigit() else None
        if document is None or document.meeting_id != meeting_id:
            raise FormError({"document_id": _("Choose a document of this meeting.")})
        fields = parse_form(CommentPeriodIn, values, datetimes=("deadline",))
        comment_period = comment_periods.open_comment_period(actor, document.id, fields)
        db.session.commit()
    except (FormError, InvalidInput, Conflict) as exc:
        db.session.rollback()
        errors = form_errors(exc)
        errors.setdefault("form", _("The draft could not be opened for comments."))
        return _index(meeting_id, errors, {**values, "document_id": document_id}, 422)
    flash(_("The draft is open for comments."), "success")
    return redirect(url_for("drafts.compile_page", meeting_id=meeting_id,
                            comment_period_id=comment_period.id))


def _seen(meeting_id: int, comment_period_id: int):
    seen = comment_periods.seen_by(current_actor(), comment_period_id)
    if seen.meeting.id != meeting_id or not seen.staff:
        raise NotFound("No such comment_period.")
    return seen


@bp.get("/<int:meeting_id>/drafts/<int:comment_period_id>")
@login_required
def compile_page(meeting_id: int, comment_period_id: int, errors: dict | None = None,
                 status: int = 200):
    seen = _seen(meeting_id, comment_period_id)
    found = comments.office_comments(seen.comment_period)
    names = {c.id: comments.author_name(c) for c in found}
    pages = [(page, list(group)) for page, group in groupby(found, key=lambda c: c.page_number)]
    primaries = [c for c in found if not c.merged_into_id]
    return render_template(
        "drafts/compile.html", meeting=seen.meeting, comment_period=seen.comment_period,
        seen=seen, pages=pages, names=names, primaries=primaries,
        open=comment_periods.is_open(seen.comment_period),
        can_prepare=Permission.PREPARE in permissions(current_actor(), seen.meeting),
        errors=errors or {}), status


def _back(meeting_id: int, comment_period_id: int, anchor: str = ""):
    return redirect(url_for("drafts.compile_page", meeting_id=meeting_id,
                            comment_period_id=comment_period_id) + anchor)


def _act(meeting_id: int, comment_period_id: int, comment_id: str, action):
    _seen(meeting_id, comment_period_id)
    try:
        action()
        db.session.commit()
    except (FormError, InvalidInput, Conflict) as exc:
        db.session.rollback()
        errors = form_errors(exc)
        errors.setdefault("form", _("Some fields are invalid."))
        return compile_page(meeting_id, comment_period_id, errors, 422)
    flash(_("Saved."), "success")
    return _back(meeting_id, comment_period_id, f"#comment-{comment_id}" if comment_id else "")


@bp.post("/<int:meeting_id>/drafts/<int:comment_period_id>/deadline")
@login_required
def deadline(meeting_id: int, comment_period_id: int):
    def change():
        fields = parse_form(CommentPeriodUpdate, {"deadline": request.form.get("deadline", "")},
                            datetimes=("deadline",))
        comment_periods.update_comment_period(current_actor(), comment_period_id, fields.deadline)
    return _act(meeting_id, comment_period_id, "", change)


def _comment_of(comment_period_id: int, comment_id: str) -> str:
    comment = db.session.get(DraftComment, comment_id)
    if comment is None or comment.comment_period_id != comment_period_id:
        raise NotFound("No such comment.")
    return comment.id


@bp.post("/<int:meeting_id>/drafts/<int:comment_period_id>/comments/<uuid:comment_id>/response")
@login_required
def respond(meeting_id: int, comment_period_id: int, comment_id):
    def change():
        cid = _comment_of(comment_period_id, str(comment_id))
        given = {"response": request.form.get("response", "")}
        if request.form.get("text", "").strip():
            given["text"] = request.form["text"]
        fields = parse_form(ResponseIn, given)
        compilation.respond(current_actor(), cid, fields.response, fields.text)
    return _act(meeting_id, comment_period_id, str(comment_id), change)


@bp.post("/<int:meeting_id>/drafts/<int:comment_period_id>/comments/<uuid:comment_id>/merge")
@login_required
def merge(meeting_id: int, comment_period_id: int, comment_id):
    def change():
        cid = _comment_of(comment_period_id, str(comment_id))
        fields = parse_form(MergeIn, {"into": request.form.get("into", "")})
        compilation.merge(current_actor(), cid, fields.into)
    return _act(meeting_id, comment_period_id, str(comment_id), change)


@bp.post("/<int:meeting_id>/drafts/<int:comment_period_id>/comments/<uuid:comment_id>/publish")
@login_required
def publish(meeting_id: int, comment_period_id: int, comment_id):
    def change():
        cid = _comment_of(comment_period_id, str(comment_id))
        compilation.set_published(current_actor(), cid, request.form.get("published") == "1")
    return _act(meeting_id, comment_period_id, str(comment_id), change)
