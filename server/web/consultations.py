"""Written consultations on screen: the list, a member's answer, the office's follow-up.

Plain forms posting back here, handled by the same services and pydantic models as the
REST API (server/api/consultations.py).
"""
from __future__ import annotations

from io import BytesIO

from flask import Blueprint, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import login_required

from server.auth import current_actor
from server.errors import Conflict, InvalidInput
from server.extensions import db
from server.models import User
from sqlalchemy import select

from server.errors import Forbidden
from server.models import MajorityBase, MajorityRule
from server.sentences import localized
from server.schemas.consultations import AnswerIn, ConsultationIn, ExtendIn
from server.services.consultations import (
    answering, asking, closing, emailing, reminding, reporting)
from server.web.meetings.common import DATETIME_LOCAL, FormError, form_errors, local, parse_form

bp = Blueprint("consultations", __name__, url_prefix="/consultations")


@bp.context_processor
def _helpers():
    return {"local": local, "DATETIME_LOCAL": DATETIME_LOCAL, "is_open": asking.is_open}


def _close_due() -> None:
    if closing.close_due():
        db.session.commit()
    reporting.issue_pending()  # after the closing's commit: see reporting


@bp.get("")
@login_required
def index():
    _close_due()
    actor = current_actor()
    return render_template("consultations/index.html", consultations=asking.visible(actor),
                           office=asking.is_office(actor), me=asking.user_id_of(actor))


def _form(errors: dict | None = None, values: dict | None = None, status: int = 200):
    if not asking.is_office(current_actor()):
        raise Forbidden("Only the office puts a question to members in writing.")
    accounts = db.session.scalars(select(User).where(User.active.is_(True))
                                  .order_by(User.full_name)).all()
    return render_template("consultations/new.html", accounts=accounts, errors=errors or {},
                           values=values or {"majority": "absolute", "base": "members",
                                             "allow_change": "1"},
                           rules=list(MajorityRule), bases=list(MajorityBase)), status


@bp.get("/new")
@login_required
def new():
    return _form()


@bp.post("/new")
@login_required
def create():
    actor = current_actor()
    if not asking.is_office(actor):
        return _form()  # refuses (403) before reading the form
    form = request.form
    values = {k: form.get(k, "") for k in ("title", "body", "question", "closes_at",
                                            "majority", "base")}
    values["allow_change"] = "1" if form.get("allow_change") else ""
    chosen = form.getlist("members")
    values["members"] = chosen
    try:
        members = [{"user_id": uid, "weight": form.get(f"weight_{uid}", "").strip() or "1"}
                   for uid in chosen]
        given = {k: values[k] for k in ("title", "body", "question", "closes_at", "majority",
                                         "base") if values[k].strip() or k != "body"}
        body = parse_form(ConsultationIn, {**given, "members": members or "",
                                           "allow_change": bool(values["allow_change"])},
                          datetimes=("closes_at",))
        consultation = asking.create(actor, asking.ConsultationFields(
            title=body.title, body=body.body, question=body.question, closes_at=body.closes_at,
            members={m.user_id: m.weight for m in body.members}, majority=body.majority,
            base=body.base, abstentions_count=body.abstentions_count,
            allow_change=body.allow_change))
        db.session.commit()
    except (FormError, InvalidInput) as exc:
        db.session.rollback()
        errors = form_errors(exc)
        for name in [n for n in errors if n.startswith("members.")]:  # a member's weight
            errors.setdefault("members", errors.pop(name))
        errors.setdefault("form", _("The consultation could not be sent."))
        return _form(errors, {**values, "weights": {k[7:]: v for k, v in form.items()
                                                    if k.startswith("weight_")}}, 422)
    flash(_("The consultation is sent to the members."), "success")
    _flash_emails(emailing.announce(actor, consultation.id, request.url_root).as_dict())
    return redirect(url_for("consultations.page", consultation_id=consultation.id))


@bp.get("/<int:consultation_id>")
@login_required
def page(consultation_id: int, errors: dict | None = None, status: int = 200):
    _close_due()
    actor = current_actor()
    consultation = asking.get(actor, consultation_id)
    me = asking.user_id_of(actor)
    office = asking.is_office(actor)
    names, no_email, emails = {}, set(), {}
    if office:
        ids = [m.user_id for m in consultation.members]
        accounts = db.session.scalars(select(User).where(User.id.in_(ids))).all()
        names = {u.id: u.full_name for u in accounts}
        no_email = {u.id for u in accounts if not (u.email or "").strip()}
        emails = emailing.last_sent(consultation.id)
    return render_template(
        "consultations/page.html", c=consultation, office=office,
        member=asking.member_of(consultation, me),
        mine=next((a for a in consultation.answers if a.user_id == me), None),
        answered={a.user_id for a in consultation.answers}, names=names,
        no_email=no_email, emails=emails, email_on=emailing.enabled(),
        errors=errors or {}), status


@bp.get("/<int:consultation_id>/report.pdf")
@login_required
def report(consultation_id: int):
    """The sealed report of the result, for the office and the members asked."""
    _close_due()
    pdf = reporting.report_pdf(asking.get(current_actor(), consultation_id))
    return send_file(BytesIO(pdf), mimetype="application/pdf",
                     download_name=f"bao-cao-xin-y-kien-{consultation_id}.pdf")


def _act(consultation_id: int, action, success: str):
    try:
        action()
        db.session.commit()
    except (FormError, InvalidInput, Conflict) as exc:
        db.session.rollback()
        return page(consultation_id, form_errors(exc), 422)
    flash(success, "success")
    return redirect(url_for("consultations.page", consultation_id=consultation_id))


@bp.post("/<int:consultation_id>/answer")
@login_required
def answer(consultation_id: int):
    def run():
        values = {"choice": request.form.get("choice", "")}
        if request.form.get("comment", "").strip():  # an empty comment is no comment
            values["comment"] = request.form["comment"]
        body = parse_form(AnswerIn, values)
        answering.answer(current_actor(), consultation_id, body.choice, body.comment)
    return _act(consultation_id, run, _("Your answer is recorded."))


@bp.post("/<int:consultation_id>/extend")
@login_required
def extend(consultation_id: int):
    def run():
        body = parse_form(ExtendIn, {"closes_at": request.form.get("closes_at", "")},
                          datetimes=("closes_at",))
        closing.extend(current_actor(), consultation_id, body.closes_at)
    return _act(consultation_id, run, _("The deadline is extended."))


@bp.post("/<int:consultation_id>/close")
@login_required
def close(consultation_id: int):
    return _act(consultation_id, lambda: closing.close_early(current_actor(), consultation_id),
                _("The consultation is closed and tallied."))


def _flash_emails(emailed: dict) -> None:
    """How many members the email reached, did not reach, or could not be sent to."""
    if not emailed["email_enabled"]:
        return
    if emailed["emailed"]:
        flash(_("Emailed: %(count)d.", count=len(emailed["emailed"])), "success")
    if emailed["email_failed"]:
        flash(_("Emails not sent: %(count)d (%(error)s).",
                count=len(emailed["email_failed"]), error=localized(emailed["email_error"])),
              "error")
    if emailed["without_email"]:
        flash(_("Members without an email address: %(count)d.",
                count=len(emailed["without_email"])), "info")


@bp.post("/<int:consultation_id>/remind")
@login_required
def remind(consultation_id: int):
    try:
        reminded = reminding.remind_and_email(current_actor(), consultation_id,
                                              request.url_root)
    except Conflict as exc:
        db.session.rollback()
        return page(consultation_id, form_errors(exc), 422)
    flash(_("Members who have not answered reminded: %(count)d.",
            count=len(reminded["reminded"])), "success")
    _flash_emails(reminded)
    return redirect(url_for("consultations.page", consultation_id=consultation_id))
