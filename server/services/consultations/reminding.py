"""Reminding the members who have not answered a written consultation yet."""
from __future__ import annotations

from server.errors import Conflict, Forbidden
from server.models import Consultation
from server.services import audit
from server.services.actors import Actor
from server.services.consultations import notices
from server.services.consultations.asking import get, is_office, is_open
from server.services.consultations.closing import audited_refusal


@audited_refusal("consultation.remind")
def remind(actor: Actor, consultation_id: int) -> list[int]:
    """Send a ``consultation.reminder`` to each member who has not answered (their tablets
    and browsers); the office only, while open. Returns the accounts reminded (maybe none);
    audited with their number. No email is sent."""
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
    return waiting
