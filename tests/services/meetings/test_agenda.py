"""The nested agenda: numbering, depth, insert, move, delete, reorder, events."""
from __future__ import annotations

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select

from server.errors import Forbidden, InvalidInput, NotFound
from server.extensions import db
from server.models import AgendaItem, AuditEntry, MeetingEvent, MeetingRole, MeetingStatus, Role
from server.schemas.meetings import AgendaItemCreate, AgendaItemUpdate, AgendaMove, AgendaOrder
from server.services.meetings import agenda
from server.services.actors import Actor
from tests import factories


@pytest.fixture
def staff(secretary):
    return Actor.of_user(secretary)


@pytest.fixture
def meeting(app):
    return factories.make_meeting()


def add(meeting, staff, title, parent=None, **kw):
    item = agenda.add_item(meeting.id, staff, AgendaItemCreate(
        title=title, parent_id=parent.id if parent else None, **kw))
    db.session.commit()
    return item


def numbered(meeting):
    return [(n.number, n.title) for n in agenda.flatten(agenda.agenda_tree(meeting).items)]


def test_numbers_are_derived_from_the_tree(meeting, staff):
    add(meeting, staff, "Khai mạc", planned_minutes=10)
    report = add(meeting, staff, "Báo cáo")
    economy = add(meeting, staff, "Kinh tế", report, planned_minutes=30)
    add(meeting, staff, "Xã hội", report, planned_minutes=20)
    add(meeting, staff, "Nông nghiệp", economy, planned_minutes=5)
    assert numbered(meeting) == [("1", "Khai mạc"), ("2", "Báo cáo"), ("2.1", "Kinh tế"),
                                 ("2.1.1", "Nông nghiệp"), ("2.2", "Xã hội")]
    # Leaves only: a parent's time is the sum of its children's.
    assert agenda.agenda_tree(meeting).total_minutes == 10 + 5 + 20


def test_insert_at_a_position_shifts_siblings(meeting, staff):
    add(meeting, staff, "A")
    add(meeting, staff, "B")
    add(meeting, staff, "Đầu", position=0)
    add(meeting, staff, "Cuối", position=99)
    assert [t for _, t in numbered(meeting)] == ["Đầu", "A", "B", "Cuối"]


def test_nesting_is_limited(meeting, staff):
    one = add(meeting, staff, "1")
    two = add(meeting, staff, "1.1", one)
    three = add(meeting, staff, "1.1.1", two)
    with pytest.raises(InvalidInput) as excinfo:
        add(meeting, staff, "1.1.1.1", three)
    assert "parent_id" in excinfo.value.fields


def test_parent_and_presenter_must_belong_to_the_meeting(meeting, staff):
    other = factories.make_meeting()
    foreign_item = factories.make_item(other)
    foreign_person = factories.make_participant(other)
    with pytest.raises(InvalidInput) as excinfo:
        add(meeting, staff, "x", foreign_item)
    assert "parent_id" in excinfo.value.fields
    with pytest.raises(InvalidInput) as excinfo:
        add(meeting, staff, "x", presenter_participant_id=foreign_person.id)
    assert "presenter_participant_id" in excinfo.value.fields


def test_presenter_participant_name_is_shown(meeting, staff):
    person = factories.make_participant(meeting, full_name="Trần Đức Lương")
    add(meeting, staff, "Tờ trình", presenter_participant_id=person.id, presenter="ignored")
    assert agenda.agenda_tree(meeting).items[0].presenter_name == "Trần Đức Lương"


def test_update_and_clear_fields(meeting, staff):
    item = add(meeting, staff, "A", presenter="Sở Tài chính", planned_minutes=15)
    agenda.update_item(meeting.id, item.id, staff, AgendaItemUpdate.model_validate(
        {"title": "A mới", "planned_minutes": None}))
    db.session.commit()
    assert (item.title, item.presenter, item.planned_minutes) == ("A mới", "Sở Tài chính", None)
    with pytest.raises(InvalidInput):
        agenda.update_item(meeting.id, item.id, staff, AgendaItemUpdate.model_validate({"title": None}))


@pytest.mark.parametrize("data", [
    {"title": ""}, {"title": "x" * 501}, {"title": 5}, {"title": "x", "planned_minutes": -1},
    {"title": "x", "planned_minutes": 24 * 60 + 1}, {"title": "x", "planned_minutes": "lâu"},
    {"title": "x", "parent_id": 0}, {"title": "x", "unknown": 1}, {},
])
def test_item_input_is_validated(data):
    with pytest.raises(ValidationError):
        AgendaItemCreate.model_validate(data)


def test_delete_removes_children_and_closes_the_gap(meeting, staff):
    add(meeting, staff, "A")
    b = add(meeting, staff, "B")
    add(meeting, staff, "B1", b)
    add(meeting, staff, "C")
    agenda.delete_item(meeting.id, b.id, staff)
    db.session.commit()
    assert numbered(meeting) == [("1", "A"), ("2", "C")]
    assert db.session.scalar(select(func.count()).select_from(AgendaItem)) == 2
    actions = db.session.scalars(select(AuditEntry.action)).all()
    assert actions[-1] == "agenda.item_deleted"


def test_move_within_and_across_parents(meeting, staff):
    a = add(meeting, staff, "A")
    b = add(meeting, staff, "B")
    c = add(meeting, staff, "C")
    agenda.move_item(meeting.id, c.id, staff, AgendaMove(parent_id=None, position=0))
    assert [t for _, t in numbered(meeting)] == ["C", "A", "B"]
    agenda.move_item(meeting.id, b.id, staff, AgendaMove(parent_id=a.id, position=0))
    db.session.commit()
    assert numbered(meeting) == [("1", "C"), ("2", "A"), ("2.1", "B")]
    agenda.move_item(meeting.id, b.id, staff, AgendaMove(parent_id=None, position=1))
    db.session.commit()
    assert numbered(meeting) == [("1", "C"), ("2", "B"), ("3", "A")]


def test_move_refuses_cycles_and_too_deep_trees(meeting, staff):
    a = add(meeting, staff, "A")
    a1 = add(meeting, staff, "A1", a)
    b = add(meeting, staff, "B")
    b1 = add(meeting, staff, "B1", b)
    with pytest.raises(InvalidInput):
        agenda.move_item(meeting.id, a.id, staff, AgendaMove(parent_id=a1.id, position=0))
    with pytest.raises(InvalidInput):
        agenda.move_item(meeting.id, a.id, staff, AgendaMove(parent_id=a.id, position=0))
    db.session.rollback()
    # A has depth 2 below it; under B1 it would reach level 4.
    with pytest.raises(InvalidInput):
        agenda.move_item(meeting.id, a.id, staff, AgendaMove(parent_id=b1.id, position=0))


def test_other_meetings_items_are_not_found(meeting, staff):
    foreign = factories.make_item(factories.make_meeting())
    with pytest.raises(NotFound):
        agenda.update_item(meeting.id, foreign.id, staff, AgendaItemUpdate(title="x"))
    with pytest.raises(NotFound):
        agenda.delete_item(meeting.id, foreign.id, staff)
    with pytest.raises(NotFound):
        agenda.move_item(meeting.id, foreign.id, staff, AgendaMove(position=0))


def test_reorder_the_whole_tree(meeting, staff):
    a, b, c = (add(meeting, staff, t) for t in "ABC")
    agenda.reorder(meeting.id, staff, AgendaOrder.model_validate(
        {"items": [{"id": c.id, "children": [{"id": a.id}]}, {"id": b.id}]}))
    db.session.commit()
    assert numbered(meeting) == [("1", "C"), ("1.1", "A"), ("2", "B")]


@pytest.mark.parametrize("shape", ["missing", "repeated", "unknown"])
def test_reorder_must_name_every_item_once(meeting, staff, shape):
    a, b = add(meeting, staff, "A"), add(meeting, staff, "B")
    items = {"missing": [{"id": a.id}], "repeated": [{"id": a.id}, {"id": b.id}, {"id": a.id}],
             "unknown": [{"id": a.id}, {"id": b.id}, {"id": 9999}]}[shape]
    with pytest.raises(InvalidInput):
        agenda.reorder(meeting.id, staff, AgendaOrder.model_validate({"items": items}))


def test_changes_to_a_published_agenda_are_broadcast(app, staff):
    meeting = factories.make_meeting(status=MeetingStatus.PUBLISHED)
    add(meeting, staff, "Khai mạc")
    event = db.session.scalars(select(MeetingEvent)).one()
    assert event.type == "agenda.changed"
    assert event.payload["items"][0]["title"] == "Khai mạc"
    assert event.revision == meeting.revision == 1


def test_draft_agenda_changes_are_not_broadcast(meeting, staff):
    add(meeting, staff, "Khai mạc")
    assert db.session.scalar(select(func.count()).select_from(MeetingEvent)) == 0


@pytest.mark.parametrize("role", [MeetingRole.CHAIR, MeetingRole.DELEGATE, MeetingRole.OBSERVER])
def test_only_preparers_edit_the_agenda(app, role):
    user = factories.make_user(Role.DELEGATE)
    meeting = factories.make_meeting(status=MeetingStatus.PUBLISHED)
    factories.make_participant(meeting, user=user, role=role)
    with pytest.raises(Forbidden):
        agenda.add_item(meeting.id, Actor.of_user(user), AgendaItemCreate(title="x"))


def test_refusals_are_audited(app):
    user = factories.make_user(Role.DELEGATE)
    meeting = factories.make_meeting(status=MeetingStatus.PUBLISHED)
    factories.make_participant(meeting, user=user)
    with pytest.raises(Forbidden):
        agenda.add_item(meeting.id, Actor.of_user(user), AgendaItemCreate(title="x"))
    entry = db.session.scalars(select(AuditEntry)).one()
    assert (entry.action, entry.outcome, entry.actor) == ("agenda.item_add", "refused", f"user:{user.id}")
    assert db.session.scalar(select(func.count()).select_from(AgendaItem)) == 0
