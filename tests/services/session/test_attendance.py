"""Attendance and quorum: door check-in, tablet presence, manual marks, the live indicator."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from server.errors import Forbidden, InvalidInput, NotFound
from server.extensions import db
from server.models import AttendanceStatus, MeetingEvent, QuorumRule, SessionState
from server.services.session import attendance, session
from server.services.actors import Actor
from tests.realtime.seed import seed_meeting


@pytest.fixture
def seeded(app):
    return seed_meeting(delegates=4)  # members with a voting right: the chair and 4 delegates


def last_event(meeting_id):
    return db.session.scalar(select(MeetingEvent).where(MeetingEvent.meeting_id == meeting_id)
                             .order_by(MeetingEvent.revision.desc()).limit(1))


@pytest.mark.parametrize("rule, members, required", [
    (QuorumRule.NONE, 5, 0), (QuorumRule.MAJORITY, 5, 3), (QuorumRule.MAJORITY, 4, 3),
    (QuorumRule.MAJORITY, 0, 1), (QuorumRule.TWO_THIRDS, 6, 4), (QuorumRule.TWO_THIRDS, 7, 5),
    (QuorumRule.THREE_QUARTERS, 4, 3), (QuorumRule.THREE_QUARTERS, 5, 4),
])
def test_required_present(rule, members, required):
    assert attendance.required_present(rule, members) == required


def test_quorum_counts_voting_members_only(seeded):
    q = attendance.quorum(seeded.meeting)
    # The meeting's secretary has no voting right and is not a member.
    assert q == {"rule": "majority", "members": 5, "present": 0, "excused": 0, "required": 3,
                 "reached": False}


def test_secretary_marks_and_quorum_goes_live(seeded):
    sec, mid = seeded.secretary_actor, seeded.meeting.id
    for person in (seeded.chair, *seeded.delegates[:2]):
        attendance.mark(sec, mid, person.id, AttendanceStatus.PRESENT)
    db.session.commit()
    event = last_event(mid)
    assert event.type == "attendance.changed"
    assert event.payload["participant_id"] == seeded.delegates[1].id
    assert event.payload["quorum"]["present"] == 3 and event.payload["quorum"]["reached"] is True
    attendance.mark(sec, mid, seeded.delegates[1].id, AttendanceStatus.EXCUSED, "Ốm")
    db.session.commit()
    event = last_event(mid)
    assert event.payload["status"] == "excused" and event.payload["excuse"] == "Ốm"
    assert event.payload["quorum"] == {"rule": "majority", "members": 5, "present": 2,
                                       "excused": 1, "required": 3, "reached": False}


def test_excuse_needs_a_reason(seeded):
    with pytest.raises(InvalidInput):
        attendance.mark(seeded.secretary_actor, seeded.meeting.id, seeded.delegates[0].id,
                        AttendanceStatus.EXCUSED, "   ")


def test_delegate_cannot_mark(seeded):
    with pytest.raises(Forbidden):
        attendance.mark(seeded.delegate_actor, seeded.meeting.id, seeded.delegates[0].id,
                        AttendanceStatus.PRESENT)


def test_participant_of_another_meeting(seeded):
    other = seed_meeting(pair_tablet=False)
    with pytest.raises(NotFound):
        attendance.mark(seeded.secretary_actor, seeded.meeting.id, other.delegates[0].id,
                        AttendanceStatus.PRESENT)


def test_door_check_in(seeded):
    mid, tablet = seeded.meeting.id, Actor.of_device(seeded.tablet)
    token = attendance.create_door_token(seeded.secretary_actor, mid)
    db.session.commit()
    with pytest.raises(InvalidInput):
        attendance.check_in(tablet, mid, "not-the-door")
    participant = attendance.check_in(tablet, mid, token)
    db.session.commit()
    assert participant.id == seeded.delegates[1].id
    assert (participant.attendance, participant.attendance_method) == (AttendanceStatus.PRESENT,
                                                                       "door_qr")
    revision = seeded.meeting.revision
    attendance.check_in(tablet, mid, token)  # twice: nothing new
    db.session.commit()
    db.session.refresh(seeded.meeting)
    assert seeded.meeting.revision == revision
    # A new door code replaces the old one.
    attendance.create_door_token(seeded.secretary_actor, mid)
    db.session.commit()
    with pytest.raises(InvalidInput):
        attendance.check_in(tablet, mid, token)


def test_door_check_in_is_for_tablets(seeded):
    token = attendance.create_door_token(seeded.secretary_actor, seeded.meeting.id)
    with pytest.raises(Forbidden):
        attendance.check_in(seeded.secretary_actor, seeded.meeting.id, token)


def test_connected_tablet_checks_in_only_while_in_session(seeded):
    device, participant = seeded.tablet, seeded.delegates[1]
    assert attendance.tablet_connected(device) is True
    db.session.commit()
    assert participant.attendance == AttendanceStatus.ABSENT  # not in session yet
    assert attendance.online_participants(seeded.meeting.id) == [participant.id]
    assert attendance.tablet_disconnected(device) is True
    session.open_session(seeded.chair_actor, seeded.meeting.id)
    db.session.commit()
    assert attendance.tablet_connected(device) is True
    assert attendance.tablet_connected(device) is False  # a second tab: already online
    db.session.commit()
    db.session.refresh(participant)
    assert (participant.attendance, participant.attendance_method) == (AttendanceStatus.PRESENT,
                                                                       "tablet")
    # A dropped connection never checks anyone out.
    assert attendance.tablet_disconnected(device) is False  # the other tab is still there
    assert attendance.tablet_disconnected(device) is True
    db.session.commit()
    db.session.refresh(participant)
    assert participant.attendance == AttendanceStatus.PRESENT
    assert attendance.online_participants(seeded.meeting.id) == []


def test_manual_absence_wins_over_a_connecting_tablet(seeded):
    session.open_session(seeded.chair_actor, seeded.meeting.id)
    attendance.mark(seeded.secretary_actor, seeded.meeting.id, seeded.delegates[1].id,
                    AttendanceStatus.ABSENT)
    db.session.commit()
    attendance.tablet_connected(seeded.tablet)
    db.session.commit()
    assert seeded.delegates[1].attendance == AttendanceStatus.ABSENT
    assert seeded.meeting.session_state == SessionState.OPEN


def test_coming_online_is_not_a_meeting_event(seeded):
    """A thousand tablets reconnecting must not make a thousand revisions."""
    before = last_event(seeded.meeting.id)
    attendance.tablet_connected(seeded.tablet)
    attendance.tablet_disconnected(seeded.tablet)
    db.session.commit()
    assert last_event(seeded.meeting.id).id == before.id
