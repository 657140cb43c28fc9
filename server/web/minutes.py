"""The minutes page: the secretary edits, previews and finalises; chair and secretary sign.

Plain forms posted back here, handled by the same services and the same
pydantic model (``MinutesEdit``) as the REST API.
"""
from __future__ import annotations

from io import BytesIO

from flask import Blueprint, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import login_required
from pydantic import ValidationError

from server.auth import current_actor
from server.errors import HemicycleError
from server.extensions import db
from server.models import MinutesStatus
from server.services.minutes import minutes as minutes_service, signing, verify
from server.services.signers import sessions
from server.services.access import Permission, get_meeting, participant_of, permissions
from server.services.minutes.minutes import MinutesEdit
from server.web.meetings.common import form_messages, local

bp = Blueprint("minutes", __name__, url_prefix="/meetings/<int:meeting_id>/minutes")
TEXT_FIELDS = ("reference", "locality", "opening", "adjournment", "free_text")


def _edit_from_form(minutes) -> MinutesEdit:
    data: dict = {name: request.form.get(name, "") for name in TEXT_FIELDS}
    data["language"] = request.form.get("language") or None
    data["items"] = {
        item["id"]: {"notes": request.form.get(f"notes-{item['id']}", ""),
                     "decision": request.form.get(f"decision-{item['id']}", "")}
        for item in minutes.sections["items"]}
    return MinutesEdit.model_validate(data)


@bp.get("")
@login_required
def page(meeting_id: int, token_session: dict | None = None):
    actor = current_actor()
    meeting = get_meeting(meeting_id, actor, Permission.STAFF_VIEW)
    minutes = minutes_service.minutes_of(meeting)
    me = participant_of(actor, meeting)
    next_signer = None
    if minutes is not None and minutes.status == MinutesStatus.FINAL:
        next_signer = signing.SIGNING_ORDER[len(minutes.signatures)]
    # What `minutes verify` would say of the file as the server holds it.
    check = (verify.verify_minutes(minutes)
             if minutes is not None and minutes.signatures else None)
    problems = verify.problems_of(check) if check is not None else None
    return render_template(
        "minutes/page.html", meeting=meeting, minutes=minutes, local=local, errors={},
        can_prepare=Permission.PREPARE in permissions(actor, meeting),
        can_sign=bool(me and next_signer and me.role.value == next_signer),
        next_signer=next_signer, verification_problems=problems,
        signature_checks=check.signatures if check is not None else [],
        document_timestamps=check.timestamps if check is not None else [],
        token_session=token_session)


@bp.post("/signing-session")
@login_required
def open_token_session(meeting_id: int):
    """Sign on your own token: the one-time link and the command line for hemicycle-sign,
    shown once on the page (never stored)."""
    actor = current_actor()
    try:
        row, code = sessions.open_session(meeting_id, actor)
    except HemicycleError as error:
        db.session.rollback()
        if error.status in (401, 403, 404):
            raise
        flash(error.message, "error")
        return redirect(url_for("minutes.page", meeting_id=meeting_id))
    db.session.commit()
    link = url_for("api.get_signing_session", code=code, _external=True)
    return page(meeting_id, token_session={
        "code": code, "link": link, "expires_at": row.expires_at,
        "command": f"hemicycle-sign --module /path/to/pkcs11.so {link}"})


@bp.post("")
@login_required
def act(meeting_id: int):
    """One form, several buttons: save, draft again, finalise, sign."""
    actor = current_actor()
    action = request.form.get("action", "")
    try:
        if action == "draft":
            minutes_service.draft_minutes(meeting_id, actor, request.form.get("language") or None)
            message = _("The minutes were drafted from the record.")
        elif action in ("save", "finalise"):
            minutes = minutes_service.get_minutes(meeting_id, actor)
            minutes_service.edit_minutes(meeting_id, actor, _edit_from_form(minutes))
            message = _("Saved.")
            if action == "finalise":
                minutes_service.finalise_minutes(meeting_id, actor)
                message = _("The minutes are final and ready to sign.")
        elif action == "sign":
            signing.sign_minutes(meeting_id, actor, request.form.get("passphrase", ""))
            message = _("Signed.")
        else:
            raise HemicycleError(_("Unknown action."), code="unknown_action")
        db.session.commit()
        flash(message, "success")
    except ValidationError as exc:
        db.session.rollback()
        flash("; ".join(form_messages(exc).values()), "error")
    except HemicycleError as error:
        db.session.rollback()
        if error.status in (401, 403, 404):  # a refusal is answered (and audited) as one
            raise
        flash(error.message, "error")
    return redirect(url_for("minutes.page", meeting_id=meeting_id))


@bp.get("/minutes.pdf")
@login_required
def pdf(meeting_id: int):
    data = minutes_service.preview_pdf(meeting_id, current_actor())
    return send_file(BytesIO(data), mimetype="application/pdf",
                     download_name=f"bien-ban-{meeting_id}.pdf")
