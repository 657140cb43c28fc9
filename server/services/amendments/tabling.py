"""Tabling amendments, and the chair's decision on them.

A member of the meeting (chair or delegate: ``Permission.SPEAK``, so not an
observer, a secretary or anyone of another meeting) tables an amendment to a
range of a draft's lines, alone or with co-signers of the same meeting; the text
it replaces is copied from the draft as the mover saw it. The mover withdraws it
until it is put to the vote. The chair or a secretary (``Permission.RUN``) admits
it or not (with a reason) and orders the queue of admitted amendments. Every
change is audited and published as ``amendment.changed``; the caller commits.
"""
from __future__ import annotations

from sqlalchemy import func, select

from server.errors import Conflict, Forbidden, InvalidInput, NotFound
from server.extensions import db
from server.models import Amendment, AmendmentStatus, Participant, utcnow
from server.schemas.amendments import AdmitIn, AmendmentIn
from server.schemas.types import MAX_ID
from server.services import audit
from server.services.access import Permission, participant_of, require
from server.services.actors import Actor
from server.services.amendments import texts, views
from server.services.voting.polls import audits_refusal


def get_amendment(amendment_id: int) -> Amendment:
    amendment = db.session.get(Amendment, amendment_id) if 0 < amendment_id <= MAX_ID else None
    if amendment is None:
        raise NotFound("No such amendment.")
    return amendment


@audits_refusal("amendment.table", "draft_text")
def table_amendment(actor: Actor | None, draft_id: int, fields: AmendmentIn) -> Amendment:
    """Table an amendment as the actor's participant; refused to anyone not a member."""
    draft, meeting = texts.seen_by(actor, draft_id)
    require(actor, meeting, Permission.SPEAK)
    mover = participant_of(actor, meeting)
    if mover is None:
        raise Forbidden("Only a member of the meeting tables an amendment.", code="not_a_member")
    if views.poll_outcome(views.current_poll(draft.final_poll_id)) is not None:
        raise Conflict("The draft as a whole is already put to the vote.", code="draft_voted")
    if fields.line_to > len(draft.lines):
        raise InvalidInput("The draft has no such line.",
                           fields={"line_to": f"the draft has {len(draft.lines)} lines"})
    cosigners = sorted(set(fields.cosigners) - {mover.id})
    known = set(db.session.scalars(select(Participant.id).where(
        Participant.meeting_id == meeting.id, Participant.id.in_(cosigners))))
    if missing := [pid for pid in cosigners if pid not in known]:
        raise InvalidInput("Some co-signers are not participants of this meeting.",
                           fields={"cosigners": f"unknown participants: {missing}"})
    number = (db.session.scalar(select(func.max(Amendment.number))
                                .where(Amendment.draft_id == draft.id)) or 0) + 1
    amendment = Amendment(
        draft_id=draft.id, meeting_id=meeting.id, number=number, tabled_by_id=mover.id,
        cosigners=cosigners, line_from=fields.line_from, line_to=fields.line_to,
        old_text="\n".join(draft.lines[fields.line_from - 1:fields.line_to]),
        new_text="\n".join(texts.split_lines(fields.new_text)), reasons=fields.reasons,
        status=AmendmentStatus.TABLED, tabled_at=utcnow())
    db.session.add(amendment)
    db.session.flush()
    audit.record("amendment.table", "amendment", amendment.id, actor=actor,
                 meeting_id=meeting.id,
                 payload={"draft_id": draft.id, "number": number, "lines":
                          [fields.line_from, fields.line_to], "cosigners": cosigners})
    views.announce(amendment)
    return amendment


@audits_refusal("amendment.withdraw", "amendment")
def withdraw(actor: Actor | None, amendment_id: int) -> Amendment:
    """The mover takes the amendment back, until it is put to the vote."""
    amendment = get_amendment(amendment_id)
    _draft, meeting = texts.seen_by(actor, amendment.draft_id)
    mover = participant_of(actor, meeting)
    if mover is None or mover.id != amendment.tabled_by_id:
        raise Forbidden("Only the mover withdraws an amendment.", code="not_the_mover")
    if amendment.status == AmendmentStatus.WITHDRAWN:
        return amendment
    if amendment.poll_id is not None:
        raise Conflict("The amendment is already put to the vote.", code="amendment_voted")
    amendment.status, amendment.position = AmendmentStatus.WITHDRAWN, None
    amendment.decided_at = utcnow()
    audit.record("amendment.withdraw", "amendment", amendment.id, actor=actor,
                 meeting_id=meeting.id, payload={"draft_id": amendment.draft_id})
    views.announce(amendment)
    return amendment


@audits_refusal("amendment.admit", "amendment")
def admit(actor: Actor | None, amendment_id: int, decision: AdmitIn) -> Amendment:
    """Admit a tabled amendment (to the end of the queue) or not, with a reason."""
    amendment = get_amendment(amendment_id)
    texts.seen_by(actor, amendment.draft_id, Permission.RUN)
    if amendment.poll_id is not None:
        raise Conflict("The amendment is already put to the vote.", code="amendment_voted")
    if amendment.status == AmendmentStatus.WITHDRAWN:
        raise Conflict("The mover withdrew the amendment.", code="amendment_withdrawn")
    wanted = AmendmentStatus.ADMITTED if decision.admitted else AmendmentStatus.NOT_ADMITTED
    if amendment.status == wanted and amendment.decision_reason == decision.reason:
        return amendment
    amendment.status, amendment.decision_reason = wanted, decision.reason
    amendment.decided_at = utcnow()
    if decision.admitted and amendment.position is None:
        last = db.session.scalar(select(func.max(Amendment.position))
                                 .where(Amendment.draft_id == amendment.draft_id))
        amendment.position = (last or 0) + 1
    elif not decision.admitted:
        amendment.position = None
    audit.record("amendment.admit", "amendment", amendment.id, actor=actor,
                 meeting_id=amendment.meeting_id,
                 payload={"admitted": decision.admitted, "reason": decision.reason})
    views.announce(amendment)
    return amendment


@audits_refusal("amendment.queue", "draft_text")
def reorder(actor: Actor | None, draft_id: int, order: list[int]) -> list[Amendment]:
    """Put the draft's admitted amendments in this order; the list must name each once."""
    draft, meeting = texts.seen_by(actor, draft_id, Permission.RUN)
    admitted = {a.id: a for a in db.session.scalars(select(Amendment).where(
        Amendment.draft_id == draft.id, Amendment.status == AmendmentStatus.ADMITTED))}
    if sorted(order) != sorted(admitted) or len(set(order)) != len(order):
        raise InvalidInput("Name every admitted amendment of the draft once.",
                           fields={"amendments": f"expected the ids {sorted(admitted)}"})
    for position, amendment_id in enumerate(order, start=1):
        admitted[amendment_id].position = position
    db.session.flush()
    audit.record("amendment.queue", "draft_text", draft.id, actor=actor, meeting_id=meeting.id,
                 payload={"order": order})
    views.announce_draft(draft)
    return [admitted[i] for i in order]
