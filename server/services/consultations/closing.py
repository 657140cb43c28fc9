"""Closing a written consultation and tallying it by the poll rules engine."""
from __future__ import annotations

import functools
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select

from server.errors import Conflict, Forbidden, InvalidInput, NotFound
from server.extensions import db
from server.models import Consultation
from server.models.base import utcnow
from server.services import audit
from server.services.actors import Actor
from server.services.archive import search
from server.services.consultations import notices
from server.services.consultations.asking import get, is_office
from server.services.voting import tally

ZERO = Decimal(0)


def tally_of(consultation: Consultation) -> dict:
    """The result by the consultation's rule; those who answered count as present."""
    weights = {m.user_id: m.weight for m in consultation.members}
    ballots = [tally.CountedBallot((a.choice,), weights[a.user_id])
               for a in consultation.answers if a.user_id in weights]
    attendance = tally.Attendance(
        members_count=len(weights), members_weight=sum(weights.values(), ZERO),
        present_count=len(ballots), present_weight=sum((b.weight for b in ballots), ZERO))
    rules = tally.Rules(consultation.majority, consultation.base, consultation.abstentions_count)
    result = tally.decide_motion(ballots, rules, attendance)
    result["attendance"] = attendance.as_dict()
    result["not_answered"] = sorted(set(weights) - {a.user_id for a in consultation.answers})
    return result


def _close(consultation: Consultation, actor: Actor, reason: str) -> Consultation:
    consultation.closed_at = utcnow()
    consultation.result = tally_of(consultation)
    db.session.flush()
    audit.record("consultation.closed", "consultation", consultation.id, actor=actor,
                 payload={"reason": reason, "passed": consultation.result["passed"],
                          "answers": consultation.result["ballots"]})
    search.index_consultation(consultation)  # the report follows the commit: reporting
    notices.queue("consultation.closed", consultation)
    return consultation


def audited_refusal(action: str):
    """Audit a refused office action (a refusal rolls the action back first)."""
    def decorate(function):
        @functools.wraps(function)
        def wrapper(actor: Actor, consultation_id: int, *args):
            try:
                return function(actor, consultation_id, *args)
            except (Forbidden, Conflict, InvalidInput, NotFound) as error:
                audit.record_refusal(action, "consultation", consultation_id, actor=actor,
                                     reason=error.code)
                raise
        return wrapper
    return decorate


@audited_refusal("consultation.close")
def close_early(actor: Actor, consultation_id: int) -> Consultation:
    """Close before the deadline; the office may, and only once every member has answered."""
    consultation = get(actor, consultation_id, lock=True)
    if not is_office(actor):
        raise Forbidden("Only the office closes a consultation.")
    if consultation.closed_at is not None:
        raise Conflict("The consultation is already closed.", code="consultation_closed")
    if len(consultation.answers) < len(consultation.members):
        raise Conflict("Not every member has answered yet; wait for the deadline.",
                       code="answers_missing")
    return _close(consultation, actor, "everyone_answered")


def close_due(now: datetime | None = None) -> list[Consultation]:
    """Close and tally every consultation whose deadline has passed (the scheduler calls this)."""
    now = now or utcnow()
    due = db.session.scalars(select(Consultation).where(
        Consultation.closed_at.is_(None), Consultation.closes_at <= now)
        .order_by(Consultation.id).with_for_update()).all()
    return [_close(c, Actor.system(), "deadline") for c in due]


@audited_refusal("consultation.extend")
def extend(actor: Actor, consultation_id: int, closes_at: datetime) -> Consultation:
    """Move the deadline later while open (audited with the old and the new deadline)."""
    consultation = get(actor, consultation_id, lock=True)
    if not is_office(actor):
        raise Forbidden("Only the office extends a consultation.")
    if consultation.closed_at is not None:
        raise Conflict("The consultation is already closed.", code="consultation_closed")
    if closes_at <= consultation.closes_at:
        raise InvalidInput("An extension moves the deadline later.",
                           fields={"closes_at": "later than the current deadline"})
    before = consultation.closes_at
    consultation.closes_at = closes_at
    db.session.flush()
    audit.record("consultation.extended", "consultation", consultation.id, actor=actor,
                 payload={"from": before.isoformat(), "to": closes_at.isoformat()})
    notices.queue("consultation.changed", consultation)
    return consultation
