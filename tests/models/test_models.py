"""The data model: relationships, enums and time zones behave the same on every backend."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, StatementError

from server.extensions import db
from server.models import (
    AgendaItem, Meeting, MeetingEvent, MeetingRole, MeetingStatus, Participant, Role, User,
)
from server.services import events
from tests.factories import make_item, make_meeting, make_participant, make_user


def test_datetimes_come_back_in_utc(app):
    meeting = make_meeting(starts_at=datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc))
    db.session.expire_all()
    loaded = db.session.get(Meeting, meeting.id)
    assert loaded.starts_at == datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc)
    assert loaded.starts_at.tzinfo is not None


def test_naive_datetimes_are_refused(app):
    db.session.add(Meeting(title="x", body="y", starts_at=datetime(2026, 12, 1, 8, 0)))
    with pytest.raises(StatementError):
        db.session.flush()
    db.session.rollback()


def test_enums_are_stored_as_their_values(app):
    make_user(Role.SECRETARY, username="tk")
    raw = db.session.execute(select(User.__table__.c.role)).scalar_one()
    assert raw == "secretary"


def test_usernames_are_unique(app):
    make_user(username="same")
    with pytest.raises(IntegrityError):
        make_user(username="same")
    db.session.rollback()


def test_nested_agenda_and_cascade(app):
    meeting = make_meeting()
    parent = make_item(meeting, "Báo cáo")
    make_item(meeting, "Báo cáo kinh tế", parent=parent)
    make_item(meeting, "Báo cáo xã hội", parent=parent)
    db.session.refresh(parent)
    assert [c.title for c in parent.children] == ["Báo cáo kinh tế", "Báo cáo xã hội"]
    db.session.delete(meeting)
    db.session.commit()
    assert db.session.scalars(select(AgendaItem)).all() == []


def test_participants_keep_exact_weights_and_proxies(app):
    meeting = make_meeting()
    holder = make_participant(meeting, full_name="Hoàng Văn Thụ", weight=Decimal("2.5"))
    absent = make_participant(meeting, full_name="Võ Thị Sáu", proxy_holder_id=holder.id)
    db.session.expire_all()
    assert db.session.get(Participant, holder.id).weight == Decimal("2.5")
    assert db.session.get(Participant, absent.id).proxy_holder.full_name == "Hoàng Văn Thụ"


def test_publish_bumps_the_revision_and_logs_the_event(app):
    meeting = make_meeting(status=MeetingStatus.PUBLISHED)
    seen = []
    events.on_committed(seen.extend)
    try:
        events.publish(meeting.id, "agenda.changed", {"items": 1})
        events.publish(meeting.id, "agenda.changed", {"items": 2})
        assert seen == []  # nothing leaves before the commit
        db.session.commit()
    finally:
        events._listeners.remove(seen.extend)
    assert [e.revision for e in seen] == [1, 2]
    assert db.session.get(Meeting, meeting.id).revision == 2
    assert db.session.scalars(select(MeetingEvent.revision)).all() == [1, 2]


def test_rolled_back_events_are_never_broadcast(app):
    meeting = make_meeting()
    seen = []
    events.on_committed(seen.extend)
    try:
        events.publish(meeting.id, "agenda.changed", {})
        db.session.rollback()
        db.session.commit()
    finally:
        events._listeners.remove(seen.extend)
    assert seen == []
    assert db.session.get(Meeting, meeting.id).revision == 0


def test_meeting_roles_cover_the_product(app):
    assert {r.value for r in MeetingRole} == {"chair", "secretary", "delegate", "observer"}
    assert {r.value for r in Role} == {"admin", "secretary", "chair", "delegate", "observer"}


def test_events_wait_for_the_outer_commit_not_a_savepoint(app):
    meeting = make_meeting(status=MeetingStatus.PUBLISHED)
    seen = []
    events.on_committed(seen.extend)
    try:
        events.publish(meeting.id, "agenda.changed", {})
        with db.session.begin_nested():
            db.session.get(Meeting, meeting.id).place = "Phòng họp B"
        assert seen == []  # the savepoint is released, the transaction is not committed
        db.session.commit()
    finally:
        events._listeners.remove(seen.extend)
    assert [e.type for e in seen] == ["agenda.changed"]


def test_events_of_a_rolled_back_savepoint_are_dropped(app):
    meeting = make_meeting(status=MeetingStatus.PUBLISHED)
    seen = []
    events.on_committed(seen.extend)
    try:
        events.publish(meeting.id, "kept", {})
        savepoint = db.session.begin_nested()
        events.publish(meeting.id, "dropped", {})
        savepoint.rollback()
        db.session.commit()
    finally:
        events._listeners.remove(seen.extend)
    assert [e.type for e in seen] == ["kept"]
    assert db.session.get(Meeting, meeting.id).revision == 1
