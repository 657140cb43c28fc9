"""A delegate's comments on a draft, on the web: the page, a region drawn on it, the comment.

The page is the document's page image (the API's, opened with the session
cookie); ``static/js/drafts/region.js`` lets the delegate draw the region the
comment is about, and without JavaScript the comment is on the whole page. The
form carries the comment's id, chosen when the page was drawn, so sending it
twice saves one comment.
"""
from __future__ import annotations

import uuid

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from server.auth import current_actor
from server.errors import Conflict, InvalidInput, NotFound
from server.extensions import db
from server.models import CommentKind, Document
from server.schemas.drafts import CommentIn
from server.services.access import Permission, get_meeting
from server.services.drafts import comments, comment_periods
from server.web.meetings.common import FormError, form_errors, local, parse_form

bp = Blueprint("comments", __name__, url_prefix="/meetings")


@bp.context_processor
def _helpers():
    return {"local": local, "CommentKind": CommentKind}


@bp.get("/<int:meeting_id>/comments")
@login_required
def index(meeting_id: int):
    """The drafts of the meeting this person is asked to comment on."""
    found = [seen for seen in comment_periods.visible(current_actor(), meeting_id)
             if seen.participant is not None]
    meeting = found[0].meeting if found else None
    if meeting is None:
        meeting = get_meeting(meeting_id, current_actor(), Permission.VIEW)
    return render_template("drafts/mine.html", meeting=meeting, comment_periods=found)


def _seen(meeting_id: int, comment_period_id: int):
    seen = comment_periods.seen_by(current_actor(), comment_period_id)
    if seen.meeting.id != meeting_id or seen.participant is None:
        raise NotFound("No such comment_period.")
    return seen


@bp.get("/<int:meeting_id>/comments/<int:comment_period_id>")
@login_required
def page(meeting_id: int, comment_period_id: int, errors: dict | None = None,
         values: dict | None = None, status: int = 200):
    seen = _seen(meeting_id, comment_period_id)
    version = seen.version
    number = request.args.get("page", type=int) or (values or {}).get("page_number") or 1
    number = min(max(1, int(number)), version.page_count)
    _seen_again, listed = comments.list_comments(current_actor(), comment_period_id)
    document = db.session.get(Document, seen.comment_period.document_id)
    image = url_for("api.page_image", document_id=document.id, number=version.number,
                    page=number, ext="jpg", size="large")
    return render_template(
        "drafts/comment.html", meeting=seen.meeting, comment_period=seen.comment_period,
        participant=seen.participant, page_number=number, page_count=version.page_count,
        image=image, comments=listed, names={c.id: comments.author_name(c) for c in listed},
        open=comment_periods.is_open(seen.comment_period), comment_id=str(uuid.uuid4()),
        errors=errors or {}, values=values or {"kind": "substantive"}), status


def _region(value: str):
    """"x0,y0,x1,y1" from the page's script; empty: the whole page."""
    if not value.strip():
        return None
    try:
        parts = [float(part) for part in value.split(",")]
    except ValueError:
        raise FormError({"region": _("The region could not be read.")}) from None
    return parts


@bp.post("/<int:meeting_id>/comments/<int:comment_period_id>")
@login_required
def submit(meeting_id: int, comment_period_id: int):
    _seen(meeting_id, comment_period_id)
    values = {name: request.form.get(name, "") for name in ("page_number", "kind", "text")}
    comment_id = request.form.get("comment_id", "")
    try:
        comment_id = str(uuid.UUID(comment_id))
        given = {k: v for k, v in values.items() if k != "text" or v.strip()}
        fields = parse_form(CommentIn, {**given, "comment_period_id": str(comment_period_id),
                                        "region": _region(request.form.get("region", ""))})
        comments.save_comment(current_actor(), comment_id, comments.CommentFields(
            fields.comment_period_id, fields.page_number, fields.region, fields.kind,
            fields.text))
        db.session.commit()
    except ValueError:
        return page(meeting_id, comment_period_id, {"form": _("Some fields are invalid.")}, values,
                    422)
    except (FormError, InvalidInput, Conflict) as exc:
        db.session.rollback()
        errors = form_errors(exc)
        errors.setdefault("form", _("The comment could not be saved."))
        status = 409 if isinstance(exc, Conflict) else 422
        return page(meeting_id, comment_period_id, errors, values, status)
    flash(_("Your comment was sent to the drafting office."), "success")
    return redirect(url_for("comments.page", meeting_id=meeting_id, comment_period_id=comment_period_id,
                            page=fields.page_number))
