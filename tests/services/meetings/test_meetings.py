"""Meetings: create, edit, list, delete drafts, publish."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select

from server.errors import Conflict, Forbidden, InvalidInput, NotAuthenticated, NotFound
from server.extensions import db
from server.models import (
    AgendaItem, AuditEntry, Meeting, MeetingEvent, MeetingRole, MeetingStatus, Participant, Role,
)
from server.schemas.meetings import MeetingCreate, MeetingUpdate
from server.services.meetings import meetings
from server.services.actors import Actor
from tests import factories

START = datetime(2026, 12, 1, 1, 30, tzinfo=timezone.utc)


def actor(user):
    return Actor.of_user(user)


def ready_meeting(**kw):
    meeting = factories.make_meeting(**kw)
    factories.make_item(meeting, "Khai mạc")
    factories.make_participant(meeting, role=MeetingRole.CHAIR, full_name="Chủ tọa")
    factories.make_participant(meeting, full_name="Đại biểu")
    return meeting


def audit_actions(meeting_id):
    return db.session.scalars(select(AuditEntry.action).where(AuditEntry.meeting_id == meeting_id)
                              .order_by(AuditEntry.seq)).all()


def test_secretary_creates_a_draft_and_it_is_audited(secretary):
    data = MeetingCreate(title="  Kỳ họp thứ 12  ", body="HĐND tỉnh", starts_at=START,
                         ends_at=START + timedelta(hours=3), reference="12/BB-HĐND")
    meeting = meetings.create_meeting(actor(secretary), data)
    db.session.commit()
    assert meeting.status == MeetingStatus.DRAFT
    assert meeting.title == "Kỳ họp thứ 12"  # stripped
    assert meeting.created_by_id == secretary.id
    assert audit_actions(meeting.id) == ["meeting.created"]


@pytest.mark.parametrize("role", [Role.CHAIR, Role.DELEGATE, Role.OBSERVER])
def test_other_accounts_cannot_create(app, role):
    user = factories.make_user(role)
    with pytest.raises(Forbidden):
        meetings.create_meeting(actor(user), MeetingCreate(title="x", body="y", starts_at=START))


def test_nobody_cannot_create(app):
    with pytest.raises(NotAuthenticated):
        meetings.create_meeting(None, MeetingCreate(title="x", body="y", starts_at=START))


@pytest.mark.parametrize("data, field", [
    ({"body": "b", "starts_at": START}, "title"),
    ({"title": "", "body": "b", "starts_at": START}, "title"),
    ({"title": "t" * 301, "body": "b", "starts_at": START}, "title"),
    ({"title": "t", "body": "b"}, "starts_at"),
    ({"title": "t", "body": "b", "starts_at": "2026-12-01T08:00:00"}, "starts_at"),  # no zone
    ({"title": "t", "body": "b", "starts_at": START, "ends_at": START}, "ends_at"),
    ({"title": "t", "body": "b", "starts_at": START, "proxy_limit": -1}, "proxy_limit"),
    ({"title": "t", "body": "b", "starts_at": START, "quorum_rule": "most"}, "quorum_rule"),
    ({"title": "t", "body": "b", "starts_at": START, "colour": "red"}, "colour"),
])
def test_create_input_is_validated(data, field):
    with pytest.raises(ValidationError) as excinfo:
        MeetingCreate.model_validate(data)
    locs = {e["loc"][0] if e["loc"] else None for e in excinfo.value.errors()}
    assert field in locs


def test_update_changes_only_sent_fields(app, secretary):
    meeting = factories.make_meeting(place="Hội trường A")
    meetings.update_meeting(meeting.id, actor(secretary), MeetingUpdate(title="Kỳ họp bất thường"))
    db.session.commit()
    assert (meeting.title, meeting.place) == ("Kỳ họp bất thường", "Hội trường A")
    assert audit_actions(meeting.id) == ["meeting.updated"]


@pytest.mark.parametrize("change, field", [
    ({"ends_at": START - timedelta(days=400)}, "ends_at"),
    ({"title": None}, "title"),
    ({"starts_at": None}, "starts_at"),
])
def test_update_refuses_inconsistent_values(app, secretary, change, field):
    meeting = factories.make_meeting(starts_at=START)
    with pytest.raises(InvalidInput) as excinfo:
        meetings.update_meeting(meeting.id, actor(secretary), MeetingUpdate.model_validate(change))
    assert field in excinfo.value.fields


def test_proxy_limit_cannot_drop_below_proxies_held(app, secretary):
    meeting = factories.make_meeting(proxy_limit=2)
    holder = factories.make_participant(meeting)
    for _ in range(2):
        factories.make_participant(meeting, proxy_holder_id=holder.id)
    with pytest.raises(InvalidInput) as excinfo:
        meetings.update_meeting(meeting.id, actor(secretary), MeetingUpdate(proxy_limit=1))
    assert "proxy_limit" in excinfo.value.fields


def test_editing_a_published_meeting_publishes_an_event(app, secretary):
    meeting = ready_meeting(status=MeetingStatus.PUBLISHED)
    meetings.update_meeting(meeting.id, actor(secretary), MeetingUpdate(place="Phòng 204"))
    db.session.commit()
    event = db.session.scalars(select(MeetingEvent).where(MeetingEvent.meeting_id == meeting.id)).one()
    assert event.type == "meeting.updated" and event.payload["place"] == "Phòng 204"
    assert meeting.revision == event.revision == 1


def test_editing_a_draft_publishes_nothing(app, secretary):
    meeting = factories.make_meeting()
    meetings.update_meeting(meeting.id, actor(secretary), MeetingUpdate(place="Phòng 204"))
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(MeetingEvent)) == 0


def test_meeting_secretary_by_participation_may_prepare(app):
    user = factories.make_user(Role.DELEGATE)
    meeting = factories.make_meeting()
    factories.make_participant(meeting, user=user, role=MeetingRole.SECRETARY)
    meetings.update_meeting(meeting.id, actor(user), MeetingUpdate(place="Phòng 1"))
    assert meeting.place == "Phòng 1"


@pytest.mark.parametrize("role, error", [
    (MeetingRole.CHAIR, Forbidden), (MeetingRole.DELEGATE, Forbidden),
    (MeetingRole.OBSERVER, Forbidden),
])
def test_participants_cannot_prepare_a_published_meeting(app, role, error):
    user = factories.make_user(Role.DELEGATE)
    meeting = factories.make_meeting(status=MeetingStatus.PUBLISHED)
    factories.make_participant(meeting, user=user, role=role)
    with pytest.raises(error):
        meetings.update_meeting(meeting.id, actor(user), MeetingUpdate(place="x"))


def test_drafts_are_hidden_from_participants(app):
    user = factories.make_user(Role.CHAIR)
    meeting = factories.make_meeting()
    factories.make_participant(meeting, user=user, role=MeetingRole.CHAIR)
    with pytest.raises(NotFound):
        meetings.update_meeting(meeting.id, actor(user), MeetingUpdate(place="x"))


def test_sealed_meetings_cannot_change(app, secretary):
    meeting = factories.make_meeting(status=MeetingStatus.SEALED)
    with pytest.raises(Forbidden) as excinfo:
        meetings.update_meeting(meeting.id, actor(secretary), MeetingUpdate(place="x"))
    assert excinfo.value.code == "sealed"


def test_list_shows_each_actor_what_they_may_see(app, secretary):
    delegate = factories.make_user(Role.DELEGATE)
    draft = factories.make_meeting(title="Nháp")
    mine = factories.make_meeting(title="Của tôi", status=MeetingStatus.PUBLISHED)
    other = factories.make_meeting(title="Khác", status=MeetingStatus.PUBLISHED)
    factories.make_participant(draft, user=delegate)
    factories.make_participant(mine, user=delegate)
    assert {m.id for m in meetings.list_meetings(actor(secretary))} == {draft.id, mine.id, other.id}
    assert [m.id for m in meetings.list_meetings(actor(delegate))] == [mine.id]
    assert [m.id for m in meetings.list_meetings(actor(secretary), MeetingStatus.DRAFT)] == [draft.id]


def test_delete_draft_removes_agenda_and_participants(app, secretary):
    meeting = ready_meeting()
    meeting_id = meeting.id
    meetings.delete_meeting(meeting_id, actor(secretary))
    db.session.commit()
    assert db.session.get(Meeting, meeting_id) is None
    for model in (AgendaItem, Participant):
        assert db.session.scalar(select(func.count()).select_from(model)) == 0
    assert audit_actions(meeting_id) == ["meeting.deleted"]


def test_published_meeting_cannot_be_deleted(app, secretary):
    meeting = ready_meeting(status=MeetingStatus.PUBLISHED)
    with pytest.raises(Conflict):
        meetings.delete_meeting(meeting.id, actor(secretary))


def test_publish_lists_every_problem_at_once(app, secretary):
    meeting = factories.make_meeting()
    factories.make_participant(meeting, voting_right=False)
    with pytest.raises(InvalidInput) as excinfo:
        meetings.publish_meeting(meeting.id, actor(secretary))
    assert set(excinfo.value.fields) == {"agenda", "participants.chair", "participants.delegates"}
    db.session.rollback()
    assert meeting.status == MeetingStatus.DRAFT


def test_publish_a_ready_meeting(app, secretary):
    meeting = ready_meeting()
    meetings.publish_meeting(meeting.id, actor(secretary))
    db.session.commit()
    assert meeting.status == MeetingStatus.PUBLISHED and meeting.published_at is not None
    assert audit_actions(meeting.id) == ["meeting.published"]
    event = db.session.scalars(select(MeetingEvent)).one()
    assert (event.type, event.payload["status"]) == ("meeting.updated", "published")
    with pytest.raises(Conflict):
        meetings.publish_meeting(meeting.id, actor(secretary))


def test_chair_cannot_publish(app):
    user = factories.make_user(Role.CHAIR)
    meeting = ready_meeting(status=MeetingStatus.PUBLISHED)
    factories.make_participant(meeting, user=user, role=MeetingRole.CHAIR)
    with pytest.raises(Forbidden):
        meetings.publish_meeting(meeting.id, actor(user))


def test_refused_creation_is_audited(app):
    user = factories.make_user(Role.DELEGATE)
    with pytest.raises(Forbidden):
        meetings.create_meeting(actor(user), MeetingCreate(title="x", body="y", starts_at=START))
    entry = db.session.scalars(select(AuditEntry)).one()
    assert (entry.action, entry.outcome) == ("meeting.create", "refused")


def test_a_whole_preparation_leaves_a_verifiable_audit_chain(app, secretary):
    from server.schemas.meetings import AgendaItemCreate, ParticipantCreate
    from server.services import audit
    from server.services.meetings import agenda, participants

    staff = actor(secretary)
    meeting = meetings.create_meeting(staff, MeetingCreate(title="Kỳ họp", body="HĐND", starts_at=START))
    db.session.commit()
    agenda.add_item(meeting.id, staff, AgendaItemCreate(title="Khai mạc"))
    participants.add_participant(meeting.id, staff, ParticipantCreate(full_name="Chủ tọa", role=MeetingRole.CHAIR))
    participants.add_participant(meeting.id, staff, ParticipantCreate(full_name="Đại biểu"))
    meetings.publish_meeting(meeting.id, staff)
    db.session.commit()
    result = audit.verify()
    assert result.ok and result.entries == 5, result.problems
