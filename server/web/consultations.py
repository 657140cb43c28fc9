"""Written consultations on screen: the list, a member's answer, the office's follow-up.

Plain forms posting back here, handled by the same services and pydantic models as the
REST API (server/api/consultations.py). Sending a new consultation is not on screen yet:
the office uses ``POST /api/v1/consultations``.
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from server.auth import current_actor
from server.errors import Conflict, InvalidInput
from server.extensions import db
from server.models import User
from server.schemas.consultations import AnswerIn, ExtendIn
from server.services.consultations import answering, asking, closing, reminding
from server.web.meetings.common import DATETIME_LOCAL, FormError, form_errors, local, parse_form

bp = Blueprint("consultations", __name__, url_prefix="/consultations")


@bp.context_processor
def _helpers():
    return {"local": local, "DATETIME_LOCAL": DATETIME_LOCAL, "is_open": asking.is_open}


def _close_due() -> None:
    if closing.close_due():
        db.session.commit()


@bp.get("")
@login_required
def index():
    _close_due()
    actor = current_actor()
    return render_template("consultations/index.html", consultations=asking.visible(actor),
                           office=asking.is_office(actor), me=asking.user_id_of(actor))


@bp.get("/<int:consultation_id>")
@login_required
def page(consultation_id: int, errors: dict | None = None, status: int = 200):
    _close_due()
    actor = current_actor()
    consultation = asking.get(actor, consultation_id)
    me = asking.user_id_of(actor)
    office = asking.is_office(actor)
    names = {}
    if office:
        ids = [m.user_id for m in consultation.members]
        names = {u.id: u.full_name for u in db.session.query(User).filter(User.id.in_(ids))}
    return render_template(
        "consultations/page.html", c=consultation, office=office,
        member=asking.member_of(consultation, me),
        mine=next((a for a in consultation.answers if a.user_id == me), None),
        answered={a.user_id for a in consultation.answers}, names=names,
        errors=errors or {}), status


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


@bp.post("/<int:consultation_id>/remind")
@login_required
def remind(consultation_id: int):
    return _act(consultation_id, lambda: reminding.remind(current_actor(), consultation_id),
                _("The members who have not answered are reminded."))
