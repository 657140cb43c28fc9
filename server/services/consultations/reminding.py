"""Reminding the members who have not answered a written consultation yet."""
from __future__ import annotations

from server.errors import Conflict, Forbidden
from server.extensions import db
from server.models import Consultation
from server.services import audit
from server.services.actors import Actor
from server.services.consultations import emailing, notices
from server.services.consultations.asking import get, is_office, is_open
from server.services.consultations.closing import audited_refusal


def _remind(actor: Actor, consultation_id: int) -> tuple[Consultation, list[int]]:
    consultation: Consultation = get(actor, consultation_id, lock=True)
    if not is_office(actor):
        raise Forbidden("Only the office reminds the members.")
    if not is_open(consultation):
        raise Conflict("The consultation is closed; there is nothing to remind of.",
                       code="consultation_closed")
    answered = {a.user_id for a in consultation.answers}
    waiting = sorted(m.user_id for m in consultation.members if m.user_id not in answered)
    audit.record("consultation.reminded", "consultation", consultation.id, actor=actor,
                 payload={"members": len(waiting)})
    if waiting:
        notices.queue("consultation.reminder", consultation, members=waiting)
    return consultation, waiting


@audited_refusal("consultation.remind")
def remind(actor: Actor, consultation_id: int) -> list[int]:
    """Send a ``consultation.reminder`` to each member who has not answered (their tablets
    and browsers); the office only, while open. Returns the accounts reminded (maybe none);
    audited with their number. No email: see :func:`remind_and_email`."""
    return _remind(actor, consultation_id)[1]


@audited_refusal("consultation.remind")
def remind_and_email(actor: Actor, consultation_id: int, base_url: str | None) -> dict:
    """:func:`remind`, committed, then, where SMTP is configured, an email to each member
    reminded who has an address, with a link under ``base_url`` (``HEMICYCLE_PUBLIC_URL``
    wins). The email's outcome never undoes the reminder; it is audited and answered per
    member: ``{"reminded", "emailed", "email_failed", "without_email", "email_enabled",
    "email_error"}``."""
    consultation, waiting = _remind(actor, consultation_id)
    batch = emailing.prepare("reminder", consultation, waiting, base_url)
    db.session.commit()  # the reminder stands before the mail server is asked anything
    return {"reminded": waiting, **emailing.deliver(actor, batch).as_dict()}
