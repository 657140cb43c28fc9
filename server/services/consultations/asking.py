"""Putting a question to members in writing, and finding it again."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select

from server.errors import Forbidden, InvalidInput, NotFound
from server.extensions import db
from server.models import Consultation, ConsultationMember, MajorityBase, MajorityRule, Role, User
from server.models.base import utcnow
from server.services import audit
from server.services.actors import Actor

CHOICES = ("yes", "no", "abstain")
OFFICE = (Role.ADMIN, Role.SECRETARY)


@dataclass(frozen=True)
class ConsultationFields:
    title: str
    question: str
    closes_at: datetime
    members: dict[int, Decimal]  # user id -> weight
    body: str = ""
    majority: MajorityRule = MajorityRule.ABSOLUTE
    base: MajorityBase = MajorityBase.MEMBERS
    abstentions_count: bool = True
    allow_change: bool = True
    opens_at: datetime | None = None


def is_office(actor: Actor | None) -> bool:
    return actor is not None and actor.user is not None and actor.user.role in OFFICE


def create(actor: Actor, fields: ConsultationFields) -> Consultation:
    """Put the question to the members; only the office (secretaries, admins) may.

    Refuses a deadline not after the opening, no members, unknown accounts or a
    weight that is not positive (422), all before anything is written.
    """
    if not is_office(actor):
        raise Forbidden("Only the office puts a question to members in writing.")
    opens_at = fields.opens_at or utcnow()
    problems = {}
    if not fields.title.strip():
        problems["title"] = "A title is required."
    if not fields.question.strip():
        problems["question"] = "A question is required."
    if fields.closes_at <= opens_at:
        problems["closes_at"] = "The deadline must come after the opening."
    if not fields.members:
        problems["members"] = "Name at least one member."
    elif any(weight <= 0 for weight in fields.members.values()):
        problems["members"] = "Every weight must be positive."
    else:
        known = set(db.session.scalars(select(User.id).where(User.id.in_(fields.members))))
        if known != set(fields.members):
            problems["members"] = "Unknown accounts: " + ", ".join(
                str(i) for i in sorted(set(fields.members) - known))
    if problems:
        raise InvalidInput("The consultation cannot be sent as it is.", fields=problems)
    consultation = Consultation(
        title=fields.title.strip(), body=fields.body, question=fields.question.strip(),
        majority=fields.majority, base=fields.base, abstentions_count=fields.abstentions_count,
        allow_change=fields.allow_change, opens_at=opens_at, closes_at=fields.closes_at,
        created_by_id=actor.user.id,
        members=[ConsultationMember(user_id=uid, weight=w) for uid, w in fields.members.items()])
    db.session.add(consultation)
    db.session.flush()
    audit.record("consultation.created", "consultation", consultation.id, actor=actor,
                 payload={"members": len(fields.members), "closes_at": fields.closes_at.isoformat(),
                          "majority": fields.majority.value, "base": fields.base.value})
    return consultation


def member_of(consultation: Consultation, user_id: int | None) -> ConsultationMember | None:
    return next((m for m in consultation.members if m.user_id == user_id), None)


def get(actor: Actor, consultation_id: int, *, lock: bool = False) -> Consultation:
    """The consultation if the actor is the office or one of its members; else 404."""
    query = select(Consultation).where(Consultation.id == consultation_id)
    if lock:
        query = query.with_for_update()
    consultation = db.session.scalars(query).first()
    user_id = actor.user.id if actor is not None and actor.user is not None else None
    if consultation is None or not (is_office(actor) or member_of(consultation, user_id)):
        raise NotFound("No such consultation.", code="consultation_not_found")
    return consultation


def is_open(consultation: Consultation, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return (consultation.closed_at is None and consultation.opens_at <= now
            and now < consultation.closes_at)
