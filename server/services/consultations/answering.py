"""A member's answer to a written consultation."""
from __future__ import annotations

from flask_babel import gettext as _

from server.errors import Conflict, Forbidden, InvalidInput, NotFound
from server.extensions import db
from server.models import ConsultationAnswer
from server.models.base import utcnow
from server.services import audit
from server.services.actors import Actor
from server.services.consultations import notices
from server.services.consultations.asking import CHOICES, get, is_open, member_of, user_id_of


def answer(actor: Actor, consultation_id: int, choice: str, comment: str = "") -> ConsultationAnswer:
    """Store the member's answer; the same answer sent again (an offline replay) is a no-op.

    Refused with nothing changed (and the refusal audited): a non-member
    (403 ``not_a_member``), after the deadline or once closed (409
    ``consultation_closed``), a different second answer where changing is not
    allowed (409 ``answer_final``), a choice outside yes/no/abstain (422).
    """
    try:
        return _answer(actor, consultation_id, choice, comment)
    except (Forbidden, Conflict, InvalidInput, NotFound) as error:
        audit.record_refusal("consultation.answer", "consultation", consultation_id, actor=actor,
                             reason=error.code)
        raise


def _answer(actor: Actor, consultation_id: int, choice: str, comment: str) -> ConsultationAnswer:
    consultation = get(actor, consultation_id, lock=True)
    member = member_of(consultation, user_id_of(actor))
    if member is None:
        raise Forbidden(_("Only the members named on the consultation answer it."),
                        code="not_a_member")
    if choice not in CHOICES:
        raise InvalidInput(_("Answer yes, no or abstain."), fields={"choice": "yes, no or abstain"})
    now = utcnow()
    if not is_open(consultation, now):
        raise Conflict(_("The consultation is closed; answers are no longer taken."),
                       code="consultation_closed")
    comment = (comment or "").strip()
    existing = next((a for a in consultation.answers if a.user_id == member.user_id), None)
    if existing is not None:
        if existing.choice == choice and existing.comment == comment:
            return existing
        if not consultation.allow_change:
            raise Conflict(_("Your answer is already recorded and this consultation does not "
                             "allow changing it."), code="answer_final")
        existing.choice, existing.comment, existing.answered_at = choice, comment, now
        stored = existing
    else:
        stored = ConsultationAnswer(consultation_id=consultation.id, user_id=member.user_id,
                                    choice=choice, comment=comment, answered_at=now)
        db.session.add(stored)
        consultation.answers.append(stored)
    db.session.flush()
    audit.record("consultation.answered", "consultation", consultation.id, actor=actor,
                 payload={"changed": existing is not None})
    notices.queue("consultation.answered", consultation, members=[member.user_id])
    return stored
