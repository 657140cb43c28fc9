"""Reminders: only the members who have not answered are reminded; the office only, while open."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from server.errors import Conflict, Forbidden
from server.extensions import db
from server.models import AuditEntry, utcnow
from server.services.actors import Actor
from server.services.consultations import answering, closing, notices, reminding
from tests import factories
from tests.services.consultations.test_consultations import _ask


@pytest.fixture
def heard():
    told: list = []
    notices.on_committed(told.extend)
    yield told
    notices._listeners.remove(told.extend)


def _audits(action):
    return [e.payload for e in db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == action))]


def test_only_those_who_have_not_answered_are_reminded(app, heard):
    members = [factories.make_user() for _ in range(3)]
    office, consultation = _ask(members)
    answering.answer(Actor.of_user(members[0]), consultation.id, "yes")
    db.session.commit()
    heard.clear()
    assert reminding.remind(office, consultation.id) == sorted(m.id for m in members[1:])
    assert heard == []  # nothing is sent before the commit
    db.session.commit()
    [notice] = heard
    assert notice.type == "consultation.reminder"
    assert sorted(notice.members) == sorted(m.id for m in members[1:])
    assert notice.office["answers_count"] == 1
    assert all("answered_by" not in view for view in notice.members.values())
    assert _audits("consultation.reminded")[-1]["members"] == 2


def test_reminders_are_refused_to_members_and_once_closed(app, heard):
    member = factories.make_user()
    office, consultation = _ask([member])
    with pytest.raises(Forbidden):
        reminding.remind(Actor.of_user(member), consultation.id)
    db.session.commit()
    closing.close_due(utcnow() + timedelta(hours=25))
    db.session.commit()
    heard.clear()
    with pytest.raises(Conflict) as refused:
        reminding.remind(office, consultation.id)
    db.session.commit()
    assert refused.value.code == "consultation_closed"
    assert heard == []
    assert [p["reason"] for p in _audits("consultation.remind")] == ["forbidden",
                                                                    "consultation_closed"]
