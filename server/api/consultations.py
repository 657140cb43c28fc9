"""REST endpoints: written consultations between sessions (xin ý kiến)."""
from __future__ import annotations

import tempfile
from io import BytesIO
from pathlib import Path

from flask import jsonify, request, send_file

from server.api.blueprint import bp
from server.api.spec import endpoint
from server.auth import current_actor
from server.errors import NotAuthenticated
from server.extensions import db
from server.schemas.consultations import AnswerIn, ConsultationIn, ExtendIn, ReminderOut
from server.services.access import require_account_role
from server.services.archive import consultation_package, search as archive_search
from server.services.consultations import (
    answering, asking, closing, emailing, reminding, reporting)

OFFICE = "the office: secretary and admin accounts"
SEERS = "the office, and the members asked (logged in, or their paired tablet)"
MEMBERS = "a member named on the consultation (logged in, or their paired tablet)"


def _actor():
    actor = current_actor()
    if actor is None:
        raise NotAuthenticated("Log in first, or send the tablet's device token.")
    return actor


def _close_due() -> None:
    # A consultation past its deadline is closed and tallied before anyone reads it.
    if closing.close_due():
        db.session.commit()
    reporting.issue_pending()  # after the closing's commit: see reporting


def _answer(consultation, actor, status=200):
    body = asking.payload(consultation, actor)
    db.session.commit()
    return jsonify(body), status


@bp.get("/consultations")
@endpoint("Written consultations you may see (the office: all; a member: those asked)",
          tag="consultations", auth=SEERS)
def list_consultations():
    actor = _actor()
    _close_due()
    body = [asking.payload(c, actor) for c in asking.visible(actor)]
    db.session.rollback()
    return jsonify(body)


@bp.post("/consultations")
@endpoint("Put a question to members in writing, with a deadline and a majority rule",
          tag="consultations", body=ConsultationIn, status=201, errors=(403, 422), auth=OFFICE)
def create_consultation(body: ConsultationIn):
    actor = _actor()
    fields = asking.ConsultationFields(
        title=body.title, body=body.body, question=body.question, closes_at=body.closes_at,
        members={m.user_id: m.weight for m in body.members}, majority=body.majority,
        base=body.base, abstentions_count=body.abstentions_count,
        allow_change=body.allow_change, opens_at=body.opens_at)
    consultation = asking.create(actor, fields)
    answer = _answer(consultation, actor, 201)
    emailing.announce(actor, consultation.id, request.url_root)  # after the commit; audited
    return answer


@bp.get("/consultations/<int:consultation_id>")
@endpoint("A written consultation, with my answer (and, to the office, who answered)",
          tag="consultations", errors=(404,), auth=SEERS)
def get_consultation(consultation_id: int):
    actor = _actor()
    _close_due()
    body = asking.payload(asking.get(actor, consultation_id), actor)
    db.session.rollback()
    return jsonify(body)


@bp.put("/consultations/<int:consultation_id>/answer")
@endpoint("Answer (or change the answer while allowed); the same answer again is a no-op. "
          "Refused: 403 not_a_member, 409 consultation_closed, 409 answer_final",
          tag="consultations", body=AnswerIn, errors=(403, 404, 409, 422), auth=MEMBERS)
def answer_consultation(consultation_id: int, body: AnswerIn):
    actor = _actor()
    answering.answer(actor, consultation_id, body.choice, body.comment)
    return _answer(asking.get(actor, consultation_id), actor)


@bp.post("/consultations/<int:consultation_id>/extend")
@endpoint("Move the deadline later (audited)", tag="consultations", body=ExtendIn,
          errors=(403, 404, 409, 422), auth=OFFICE)
def extend_consultation(consultation_id: int, body: ExtendIn):
    actor = _actor()
    return _answer(closing.extend(actor, consultation_id, body.closes_at), actor)


@bp.post("/consultations/<int:consultation_id>/close")
@endpoint("Close early, once every member has answered, and tally the result",
          tag="consultations", errors=(403, 404, 409), auth=OFFICE)
def close_consultation(consultation_id: int):
    actor = _actor()
    answer = _answer(closing.close_early(actor, consultation_id), actor)
    reporting.issue_pending()
    return answer


@bp.post("/consultations/<int:consultation_id>/remind")
@endpoint("Remind the members who have not answered: a consultation.reminder to their "
          "tablets and browsers and, where SMTP is configured, an email to each who has an "
          "address. Answers who was reminded, emailed, not emailed (email_failed, with "
          "email_error) and who has no address; a mail server that is down fails no reminder",
          tag="consultations", response=ReminderOut, errors=(403, 404, 409), auth=OFFICE)
def remind_consultation(consultation_id: int):
    actor = _actor()
    return jsonify(reminding.remind_and_email(actor, consultation_id, request.url_root))


@bp.get("/consultations/<int:consultation_id>/report.pdf")
@endpoint("The report of the result (PDF, Vietnamese administrative layout), sealed by the "
          "office at closing. Refused: 409 consultation_open, 404 report_missing",
          tag="consultations", response_content_type="application/pdf", errors=(404, 409),
          auth=SEERS)
def consultation_report(consultation_id: int):
    actor = _actor()
    _close_due()
    pdf = reporting.report_pdf(asking.get(actor, consultation_id))
    db.session.rollback()
    return send_file(BytesIO(pdf), mimetype="application/pdf",
                     download_name=f"bao-cao-xin-y-kien-{consultation_id}.pdf")


@bp.get("/consultations/<int:consultation_id>/package")
@endpoint("Download the archive package (BagIt, zipped) of a closed consultation: the sealed "
          "report, every answer, the audit chain. Refused: 409 consultation_open, "
          "409 report_unsigned", tag="consultations", response_content_type="application/zip",
          errors=(404, 409), auth="archivists: secretary and admin accounts")
def consultation_archive_package(consultation_id: int):
    require_account_role(_actor(), *archive_search.ARCHIVIST_ROLES)
    _close_due()
    with tempfile.TemporaryDirectory(prefix="hemicycle-export-") as tmp:
        name = f"hemicycle-consultation-{consultation_id}.zip"
        data = consultation_package.export_package(consultation_id, Path(tmp) / name).read_bytes()
    db.session.rollback()
    return send_file(BytesIO(data), mimetype="application/zip", as_attachment=True,
                     download_name=name)
