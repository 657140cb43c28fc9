"""Written consultations: asking, answering (and the three refusals), closing and the tally."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from server.errors import Conflict, Forbidden, InvalidInput, NotFound
from server.extensions import db
from server.models import AuditEntry, ConsultationAnswer, MajorityBase, MajorityRule, Role, utcnow
from server.services.actors import Actor
from server.services.consultations import answering, asking, closing
from tests import factories


def _ask(members, *, allow_change=True, majority=MajorityRule.ABSOLUTE,
         base=MajorityBase.MEMBERS, hours=24):
    office = Actor.of_user(factories.make_user(Role.SECRETARY))
    consultation = asking.create(office, asking.ConsultationFields(
        title="Xin ý kiến về Nghị quyết điều chỉnh kế hoạch đầu tư công",
        question="Đồng ý thông qua dự thảo Nghị quyết?",
        closes_at=utcnow() + timedelta(hours=hours),
        members={m.id: Decimal(1) for m in members}, allow_change=allow_change,
        majority=majority, base=base))
    db.session.commit()
    return office, consultation


def _stored(consultation_id):
    return db.session.scalars(select(ConsultationAnswer).where(
        ConsultationAnswer.consultation_id == consultation_id)
        .order_by(ConsultationAnswer.user_id)).all()


def test_members_answer_and_the_tally_follows_the_poll_rules(app):
    members = [factories.make_user() for _ in range(15)]
    office, consultation = _ask(members)
    for member in members[:8]:
        answering.answer(Actor.of_user(member), consultation.id, "yes")
    for member in members[8:12]:
        answering.answer(Actor.of_user(member), consultation.id, "no", "Cần làm rõ nguồn vốn")
    db.session.commit()
    closed = closing.close_due(utcnow() + timedelta(hours=25))
    db.session.commit()
    assert [c.id for c in closed] == [consultation.id]
    result = consultation.result
    assert result["totals"]["yes"]["count"] == 8 and result["totals"]["no"]["count"] == 4
    # Absolute majority of all 15 members: 8 > 7.5 carries.
    assert result["base"] == "15" and result["passed"] is True
    assert result["not_answered"] == sorted(m.id for m in members[12:])


def test_two_thirds_of_members_is_not_reached_by_eight_of_fifteen(app):
    members = [factories.make_user() for _ in range(15)]
    _office, consultation = _ask(members, majority=MajorityRule.TWO_THIRDS)
    for member in members[:8]:
        answering.answer(Actor.of_user(member), consultation.id, "yes")
    db.session.commit()
    closing.close_due(utcnow() + timedelta(days=2))
    assert consultation.result["passed"] is False and consultation.result["threshold"] == "10"


def _refusals_audited(consultation_id):
    return db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "consultation.answer", AuditEntry.outcome != "ok"))


def test_an_answer_after_the_deadline_is_refused_and_changes_nothing(app):
    member = factories.make_user()
    _office, consultation = _ask([member])
    consultation.closes_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    with pytest.raises(Conflict) as refused:
        answering.answer(Actor.of_user(member), consultation.id, "yes")
    assert refused.value.code == "consultation_closed"
    assert _stored(consultation.id) == []
    assert _refusals_audited(consultation.id) == 1


def test_a_second_answer_is_refused_where_changing_is_not_allowed(app):
    member = factories.make_user()
    _office, consultation = _ask([member], allow_change=False)
    answering.answer(Actor.of_user(member), consultation.id, "yes")
    db.session.commit()
    # The same answer again (an offline queue replaying it) is accepted as it is.
    answering.answer(Actor.of_user(member), consultation.id, "yes")
    with pytest.raises(Conflict) as refused:
        answering.answer(Actor.of_user(member), consultation.id, "no")
    assert refused.value.code == "answer_final"
    assert [(a.user_id, a.choice) for a in _stored(consultation.id)] == [(member.id, "yes")]


def test_a_member_may_change_the_answer_where_allowed(app):
    member = factories.make_user()
    _office, consultation = _ask([member])
    answering.answer(Actor.of_user(member), consultation.id, "yes")
    answering.answer(Actor.of_user(member), consultation.id, "abstain", "Chưa đủ thông tin")
    db.session.commit()
    assert [(a.choice, a.comment) for a in _stored(consultation.id)] == [
        ("abstain", "Chưa đủ thông tin")]


def test_a_non_member_cannot_answer_nor_see_the_consultation(app):
    member, outsider = factories.make_user(), factories.make_user()
    _office, consultation = _ask([member])
    with pytest.raises(NotFound):
        answering.answer(Actor.of_user(outsider), consultation.id, "yes")
    assert _stored(consultation.id) == []


def test_the_office_member_who_is_not_named_is_refused_as_not_a_member(app):
    member = factories.make_user()
    office, consultation = _ask([member])
    with pytest.raises(Forbidden) as refused:
        answering.answer(office, consultation.id, "yes")
    assert refused.value.code == "not_a_member"
    assert _stored(consultation.id) == []


@pytest.mark.parametrize("choice", ["", "maybe", "YES"])
def test_an_unknown_choice_is_refused(app, choice):
    member = factories.make_user()
    _office, consultation = _ask([member])
    with pytest.raises(InvalidInput):
        answering.answer(Actor.of_user(member), consultation.id, choice)
    assert _stored(consultation.id) == []


def test_only_the_office_asks_and_bad_fields_are_refused(app):
    delegate = factories.make_user()
    fields = asking.ConsultationFields(title="T", question="Q", closes_at=utcnow() + timedelta(1),
                                       members={delegate.id: Decimal(1)})
    with pytest.raises(Forbidden):
        asking.create(Actor.of_user(delegate), fields)
    office = Actor.of_user(factories.make_user(Role.SECRETARY))
    bad = asking.ConsultationFields(title=" ", question="Q", closes_at=utcnow() - timedelta(1),
                                    members={delegate.id: Decimal(0), 99999: Decimal(1)})
    with pytest.raises(InvalidInput) as refused:
        asking.create(office, bad)
    assert set(refused.value.fields) == {"title", "closes_at", "members"}


def test_early_close_needs_every_answer_and_extension_is_audited(app):
    members = [factories.make_user() for _ in range(2)]
    office, consultation = _ask(members)
    answering.answer(Actor.of_user(members[0]), consultation.id, "yes")
    db.session.commit()  # a refusal rolls back what is not committed, as a request would
    with pytest.raises(Conflict) as refused:
        closing.close_early(office, consultation.id)
    assert refused.value.code == "answers_missing"
    later = consultation.closes_at + timedelta(days=1)
    closing.extend(office, consultation.id, later)
    answering.answer(Actor.of_user(members[1]), consultation.id, "yes")
    closing.close_early(office, consultation.id)
    db.session.commit()
    assert consultation.closed_at is not None and consultation.result["passed"] is True
    actions = db.session.scalars(select(AuditEntry.action).where(
        AuditEntry.object_type == "consultation")).all()
    assert {"consultation.created", "consultation.extended", "consultation.closed"} <= set(actions)
