"""REST endpoints: drafts open for comment, delegates' comments, the compiled report."""
from __future__ import annotations

import uuid
from typing import Literal

from flask import Response, current_app, jsonify
from pydantic import BaseModel, ConfigDict

from server.api.blueprint import bp
from server.api.spec import endpoint
from server.auth import current_actor
from server.errors import NotAuthenticated
from server.extensions import db
from server.schemas.drafts import (
    CommentIn, CommentPeriodIn, CommentPeriodUpdate, MergeIn, PublishIn, ResponseIn,
)
from server.services.drafts import (
    carried, comments, compilation, comment_periods, report, report_pdf, report_sheet,
)

OFFICE = "the drafting office: the meeting's secretaries, secretary and admin accounts"
STAFF = "the meeting's staff: admins, secretaries and its chair"
SEERS = "the meeting's staff, and the participants asked to comment (the audience)"
COMMENTERS = ("a participant in the comment period's audience who may read the document "
              "(paired tablet or logged-in user); only your own comments")


class CommentPeriodOut(BaseModel):
    id: int
    meeting_id: int
    document_id: int
    agenda_item_id: int | None
    version_id: int
    version_number: int
    page_count: int
    title: str
    audience: str
    members: list[int]
    deadline: str
    opened_at: str
    open: bool
    can_comment: bool


class CommentOut(BaseModel):
    id: str
    comment_period_id: int
    participant_id: int
    author: str | None
    page_number: int
    region: list[float] | None
    quote: str
    kind: str
    text: str
    published: bool
    merged_into_id: str | None
    response: str | None
    response_text: str | None
    created_at: str | None
    updated_at: str | None


class CarriedFrom(BaseModel):
    version: int
    page_number: int
    comment_period_id: int


class CarriedCommentOut(CommentOut):
    carried_from: CarriedFrom


class ReportQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lang: Literal["vi", "en"] = "vi"


def _actor():
    actor = current_actor()
    if actor is None:
        raise NotAuthenticated("Log in first, or send the tablet's device token.")
    return actor


def _comment_period(comment_period, seen=None) -> dict:
    return CommentPeriodOut.model_validate(comment_periods.payload(comment_period, seen)).model_dump()


def _comment(comment, staff: bool) -> dict:
    # A delegate sees the names on published comments; the office sees every author.
    body = comments.payload(comment, author=comments.author_name(comment), staff=staff)
    return CommentOut.model_validate(body).model_dump()


@bp.get("/meetings/<int:meeting_id>/comment-periods")
@endpoint("The meeting's drafts open for comment that you may see", tag="drafts",
          response=list[CommentPeriodOut], errors=(404,), auth=SEERS)
def list_comment_periods(meeting_id: int):
    found = comment_periods.visible(_actor(), meeting_id)
    body = [_comment_period(seen.comment_period, seen) for seen in found]
    db.session.rollback()
    return jsonify(body)


@bp.post("/documents/<int:document_id>/comment-periods")
@endpoint("Open a version of the document for comments, with a deadline and an audience",
          tag="drafts", body=CommentPeriodIn, response=CommentPeriodOut, status=201,
          errors=(404, 409, 422), auth=OFFICE)
def open_comment_period(document_id: int, body: CommentPeriodIn):
    comment_period = comment_periods.open_comment_period(_actor(), document_id, body)
    db.session.commit()
    return jsonify(_comment_period(comment_period)), 201


@bp.get("/comment-periods/<int:comment_period_id>")
@endpoint("A draft open for comment", tag="drafts", response=CommentPeriodOut, errors=(404,),
          auth=SEERS)
def get_comment_period(comment_period_id: int):
    seen = comment_periods.seen_by(_actor(), comment_period_id)
    body = _comment_period(seen.comment_period, seen)
    db.session.rollback()
    return jsonify(body)


@bp.patch("/comment-periods/<int:comment_period_id>")
@endpoint("Move the deadline; one in the past closes the comment period now", tag="drafts",
          body=CommentPeriodUpdate, response=CommentPeriodOut, errors=(404,), auth=OFFICE)
def update_comment_period(comment_period_id: int, body: CommentPeriodUpdate):
    comment_period = comment_periods.update_comment_period(_actor(), comment_period_id, body.deadline)
    db.session.commit()
    return jsonify(_comment_period(comment_period))


@bp.get("/comment-periods/<int:comment_period_id>/comments")
@endpoint("Comments, by page: the office sees all; a delegate their own and the published ones",
          tag="drafts", response=list[CommentOut], errors=(404,), auth=SEERS)
def list_comments(comment_period_id: int):
    seen, found = comments.list_comments(_actor(), comment_period_id)
    body = [_comment(c, seen.staff) for c in found]
    db.session.rollback()
    return jsonify(body)


@bp.get("/documents/<int:document_id>/versions/<int:number>/carried-comments")
@endpoint("Comments made on earlier versions that stay on this version's pages (the page "
          "kept its content): page_number is the page in this version, carried_from says "
          "where the comment was made. Who sees which comment is as on the earlier version",
          tag="drafts", response=list[CarriedCommentOut], errors=(404,), auth=SEERS)
def list_carried_comments(document_id: int, number: int):
    body = [CarriedCommentOut.model_validate(c).model_dump()
            for c in carried.carried_comments(_actor(), document_id, number)]
    db.session.rollback()
    return jsonify(body)


@bp.put("/comments/<uuid:comment_id>")
@endpoint("Save a comment under the id the client chose; sending it again changes nothing. "
          "After the deadline: 409 comment_period_closed", tag="drafts", body=CommentIn,
          response=CommentOut, errors=(403, 404, 409), auth=COMMENTERS)
def save_comment(comment_id: uuid.UUID, body: CommentIn):
    fields = comments.CommentFields(body.comment_period_id, body.page_number, body.region,
                                    body.kind, body.text)
    comment = comments.save_comment(_actor(), str(comment_id), fields)
    db.session.commit()
    return jsonify(_comment(comment, staff=False))


@bp.post("/comments/<uuid:comment_id>/publish")
@endpoint("Publish a comment to the draft's audience, or take it back", tag="drafts",
          body=PublishIn, response=CommentOut, errors=(404,), auth=OFFICE)
def publish_comment(comment_id: uuid.UUID, body: PublishIn):
    comment = compilation.set_published(_actor(), str(comment_id), body.published)
    db.session.commit()
    return jsonify(_comment(comment, staff=True))


@bp.post("/comments/<uuid:comment_id>/merge")
@endpoint("Merge a duplicate into another comment of the same draft (null: separate it)",
          tag="drafts", body=MergeIn, response=CommentOut, errors=(404, 422), auth=OFFICE)
def merge_comment(comment_id: uuid.UUID, body: MergeIn):
    comment = compilation.merge(_actor(), str(comment_id), body.into)
    db.session.commit()
    return jsonify(_comment(comment, staff=True))


@bp.post("/comments/<uuid:comment_id>/response")
@endpoint("Record the office's answer: accepted, explained or not accepted, with its text",
          tag="drafts", body=ResponseIn, response=CommentOut, errors=(404, 422), auth=OFFICE)
def respond_to_comment(comment_id: uuid.UUID, body: ResponseIn):
    comment = compilation.respond(_actor(), str(comment_id), body.response, body.text)
    db.session.commit()
    return jsonify(_comment(comment, staff=True))


def _zone() -> str:
    return current_app.config.get("TIMEZONE", "Asia/Ho_Chi_Minh")


def _download(data: bytes, mimetype: str, name: str) -> Response:
    return Response(data, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="{name}"',
        "Cache-Control": "private, no-store"})


@bp.get("/comment-periods/<int:comment_period_id>/report.pdf")
@endpoint("The compiled comment report as PDF (Vietnamese administrative layout)",
          tag="drafts", query=ReportQuery, response_content_type="application/pdf",
          errors=(404,), auth=STAFF)
def report_pdf_file(comment_period_id: int, query: ReportQuery):
    built = report.compile_report(_actor(), comment_period_id, query.lang)
    data = report_pdf.render_report(built, zone=_zone())
    db.session.rollback()
    return _download(data, "application/pdf", f"gop-y-{comment_period_id}.pdf")


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.get("/comment-periods/<int:comment_period_id>/report.xlsx")
@endpoint("The compiled comment report as a spreadsheet; cells that would be formulas are "
          "written as text", tag="drafts", query=ReportQuery, response_content_type=XLSX,
          errors=(404,), auth=STAFF)
def report_xlsx_file(comment_period_id: int, query: ReportQuery):
    built = report.compile_report(_actor(), comment_period_id, query.lang)
    data = report_sheet.render_sheet(built, zone=_zone())
    db.session.rollback()
    return _download(data, XLSX, f"gop-y-{comment_period_id}.xlsx")
