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
from server.services.consultations import notices

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
        audit.record_refusal("consultation.create", "consultation", actor=actor,
                             reason="forbidden")
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
    notices.queue("consultation.opened", consultation)
    return consultation


def user_id_of(actor: Actor | None) -> int | None:
    """The account answering: a logged-in user, or the account of a tablet's paired participant."""
    if actor is None:
        return None
    if actor.user is not None:
        return actor.user.id
    if actor.device is not None and actor.device.participant is not None:
        return actor.device.participant.user_id
    return None


def member_of(consultation: Consultation, user_id: int | None) -> ConsultationMember | None:
    return next((m for m in consultation.members if m.user_id == user_id), None)


def get(actor: Actor, consultation_id: int, *, lock: bool = False) -> Consultation:
    """The consultation if the actor is the office or one of its members; else 404."""
    query = select(Consultation).where(Consultation.id == consultation_id)
    if lock:
        query = query.with_for_update()
    consultation = db.session.scalars(query).first()
    user_id = user_id_of(actor)
    if consultation is None or not (is_office(actor) or member_of(consultation, user_id)):
        raise NotFound("No such consultation.", code="consultation_not_found")
    return consultation


def is_open(consultation: Consultation, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return (consultation.closed_at is None and consultation.opens_at <= now
            and now < consultation.closes_at)


def visible(actor: Actor) -> list[Consultation]:
    """Every consultation for the office; for a member, those they are asked."""
    query = select(Consultation).order_by(Consultation.closes_at.desc(), Consultation.id)
    if not is_office(actor):
        user_id = user_id_of(actor) or -1
        query = query.join(ConsultationMember).where(ConsultationMember.user_id == user_id)
    return list(db.session.scalars(query))


def payload(consultation: Consultation, actor: Actor) -> dict:
    """What the API answers: the question, the rule, who answered (to the office), my answer."""
    user_id = user_id_of(actor)
    mine = next((a for a in consultation.answers if a.user_id == user_id), None)
    body = {
        "id": consultation.id, "title": consultation.title, "body": consultation.body,
        "question": consultation.question, "choices": list(CHOICES),
        "majority": consultation.majority.value, "base": consultation.base.value,
        "abstentions_count": consultation.abstentions_count,
        "allow_change": consultation.allow_change,
        "opens_at": consultation.opens_at.isoformat(),
        "closes_at": consultation.closes_at.isoformat(),
        "closed_at": consultation.closed_at.isoformat() if consultation.closed_at else None,
        "open": is_open(consultation), "members_count": len(consultation.members),
        "answers_count": len(consultation.answers),
        "my_answer": ({"choice": mine.choice, "comment": mine.comment,
                       "answered_at": mine.answered_at.isoformat()} if mine else None),
        "answered_by": None, "result": consultation.result,
    }
    if is_office(actor):
        body["answered_by"] = sorted(a.user_id for a in consultation.answers)
    return body
