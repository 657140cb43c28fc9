"""Session control: open, pause, resume, adjourn, the current item and its clock."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from server.errors import Conflict, Forbidden, NotFound
from server.extensions import db
from server.models import (
    AuditEntry, MeetingEvent, MeetingStatus, SessionState, SpeakerStatus, utcnow,
)
from server.services.session import floor, session
from server.services.actors import Actor
from tests import factories
from tests.realtime.seed import seed_meeting


@pytest.fixture
def seeded(app):
    return seed_meeting()


def events_of(meeting_id, since=0):
    return list(db.session.scalars(select(MeetingEvent).where(
        MeetingEvent.meeting_id == meeting_id, MeetingEvent.revision > since)
        .order_by(MeetingEvent.revision)))


def test_open_session_publishes_and_audits(seeded):
    before = seeded.meeting.revision
    session.open_session(seeded.chair_actor, seeded.meeting.id)
    db.session.commit()
    db.session.refresh(seeded.meeting)
    assert seeded.meeting.session_state == SessionState.OPEN
    assert seeded.meeting.status == MeetingStatus.IN_SESSION
    assert seeded.meeting.session_opened_at is not None
    [event] = events_of(seeded.meeting.id, before)
    assert (event.type, event.payload["state"], event.revision) == ("session.changed", "open", before + 1)
    assert db.session.scalar(select(AuditEntry.action).order_by(AuditEntry.seq.desc()).limit(1)) \
        == "session.open"


def test_meeting_secretary_may_run_the_session(seeded):
    session.open_session(seeded.secretary_actor, seeded.meeting.id)
    assert seeded.meeting.session_state == SessionState.OPEN


@pytest.mark.parametrize("who", ["delegate_actor", "tablet"])
def test_delegate_cannot_lead(seeded, who):
    actor = Actor.of_device(seeded.tablet) if who == "tablet" else getattr(seeded, who)
    revision = seeded.meeting.revision
    with pytest.raises(Forbidden):
        session.open_session(actor, seeded.meeting.id)
    db.session.rollback()
    db.session.refresh(seeded.meeting)
    assert seeded.meeting.session_state == SessionState.NOT_STARTED
    assert seeded.meeting.revision == revision


def test_outsider_does_not_even_see_the_meeting(seeded):
    outsider = Actor.of_user(factories.make_user())
    with pytest.raises(NotFound):
        session.open_session(outsider, seeded.meeting.id)


def test_draft_meeting_cannot_be_opened(app):
    seeded = seed_meeting(pair_tablet=False)
    seeded.meeting.status = MeetingStatus.DRAFT
    db.session.commit()
    with pytest.raises(Conflict) as error:
        session.open_session(seeded.secretary_actor, seeded.meeting.id)
    assert error.value.code == "not_published"


def test_lifecycle_conflicts(seeded):
    chair, mid = seeded.chair_actor, seeded.meeting.id
    with pytest.raises(Conflict):
        session.pause_session(chair, mid)
    session.open_session(chair, mid)
    with pytest.raises(Conflict):
        session.open_session(chair, mid)
    with pytest.raises(Conflict):
        session.resume_session(chair, mid)
    session.pause_session(chair, mid)
    assert seeded.meeting.session_state == SessionState.PAUSED
    session.resume_session(chair, mid)
    assert seeded.meeting.session_state == SessionState.OPEN
    session.adjourn_session(chair, mid)
    assert seeded.meeting.session_state == SessionState.ADJOURNED
    assert seeded.meeting.status == MeetingStatus.CLOSED
    with pytest.raises(Conflict):
        session.resume_session(chair, mid)
    with pytest.raises(Conflict):
        session.step_item(chair, mid, 1)


def test_items_move_in_reading_order(seeded):
    chair, mid = seeded.chair_actor, seeded.meeting.id
    with pytest.raises(Conflict):  # not open yet
        session.step_item(chair, mid, 1)
    session.open_session(chair, mid)
    visited = [session.step_item(chair, mid, 1).current_item_id for _ in seeded.items]
    assert visited == [item.id for item in seeded.items]  # 1, 2, 2.1, 3
    with pytest.raises(Conflict) as error:
        session.step_item(chair, mid, 1)
    assert error.value.code == "end_of_agenda"
    assert session.step_item(chair, mid, -1).current_item_id == seeded.items[2].id
    assert session.set_current_item(chair, mid, seeded.items[0].id).current_item_id \
        == seeded.items[0].id
    db.session.commit()
    changes = [e.payload["current_item_id"] for e in events_of(mid) if e.type == "item.changed"]
    assert changes == [i.id for i in seeded.items] + [seeded.items[2].id, seeded.items[0].id]


def test_item_of_another_meeting_is_refused(seeded):
    other = factories.make_meeting(status=MeetingStatus.PUBLISHED)
    foreign = factories.make_item(other, "Khác")
    session.open_session(seeded.chair_actor, seeded.meeting.id)
    with pytest.raises(NotFound):
        session.set_current_item(seeded.chair_actor, seeded.meeting.id, foreign.id)


def test_timer_start_pause_resume_reset(seeded):
    chair, mid = seeded.chair_actor, seeded.meeting.id
    session.open_session(chair, mid)
    session.step_item(chair, mid, 1)
    item = session.timer_action(chair, mid, "start")
    assert item.id == seeded.items[0].id and item.timer_running_since is not None
    with pytest.raises(Conflict):
        session.timer_action(chair, mid, "start")
    # Pretend it has run for 90 seconds.
    item.timer_running_since = utcnow() - timedelta(seconds=90)
    session.timer_action(chair, mid, "pause")
    assert item.timer_running_since is None and 89 <= item.elapsed_seconds <= 91
    with pytest.raises(Conflict):
        session.timer_action(chair, mid, "start")  # already started once: resume it
    session.timer_action(chair, mid, "resume")
    assert item.timer_running_since is not None
    session.timer_action(chair, mid, "reset")
    assert (item.elapsed_seconds, item.started_at, item.timer_running_since) == (0, None, None)
    with pytest.raises(NotFound):
        session.timer_action(chair, mid, "explode")


def test_moving_on_and_pausing_stop_the_clock(seeded):
    chair, mid = seeded.chair_actor, seeded.meeting.id
    session.open_session(chair, mid)
    session.step_item(chair, mid, 1)
    first = session.timer_action(chair, mid, "start")
    session.step_item(chair, mid, 1)
    assert first.timer_running_since is None
    second = session.timer_action(chair, mid, "start")
    session.pause_session(chair, mid)
    assert second.timer_running_since is None


def test_adjourn_ends_the_running_speech(seeded):
    chair, mid = seeded.chair_actor, seeded.meeting.id
    session.open_session(chair, mid)
    request = floor.request_floor(seeded.delegate_actor, mid)
    floor.grant(chair, mid, request.id)
    session.adjourn_session(chair, mid)
    assert request.status == SpeakerStatus.DONE and request.ended_at is not None


# Concurrency on PostgreSQL ------------------------------------------------------------

@pytest.mark.services
def test_concurrent_changes_keep_one_revision_line(tmp_path, postgres_url):
    """Chair, secretary and tablets acting at once on PostgreSQL: no deadlock, no lost
    revision, an intact audit chain."""
    import threading

    from server import create_app
    from server.errors import HemicycleError
    from server.models import AttendanceStatus, Base, Device, Meeting, User
    from server.services import audit
    from server.services.session import attendance
    from tests.conftest import test_config
    from tests.pg import scratch_database

    with scratch_database(postgres_url) as url:
        app = create_app(test_config(tmp_path, DATABASE_URL=url))
        with app.app_context():
            Base.metadata.create_all(db.engine)
            seeded = seed_meeting(delegates=4)
            session.open_session(seeded.chair_actor, seeded.meeting.id)
            db.session.commit()
            mid, tablet_id = seeded.meeting.id, seeded.tablet.id
            chair_id, secretary_id = seeded.chair_user.id, seeded.secretary_user.id
            delegate_ids = [p.id for p in seeded.delegates]
            db.session.remove()
        failures: list[BaseException] = []

        def user(user_id):
            return Actor.of_user(db.session.get(User, user_id))

        def chair_work(n):
            session.step_item(user(chair_id), mid, 1 if n % 4 < 2 else -1)

        def secretary_work(n):
            status = AttendanceStatus.PRESENT if n % 2 else AttendanceStatus.ABSENT
            attendance.mark(user(secretary_id), mid, delegate_ids[n % 4], status)

        def tablet_work(n):
            device = Actor.of_device(db.session.get(Device, tablet_id))
            (floor.request_floor if n % 2 == 0 else floor.withdraw)(device, mid)

        def pause_work(n):
            (session.pause_session if n % 2 == 0 else session.resume_session)(user(chair_id), mid)

        def run(work):
            with app.app_context():
                for n in range(12):
                    try:
                        work(n)
                        db.session.commit()
                    except HemicycleError:  # a domain refusal (e.g. end of agenda) is fine
                        db.session.rollback()
                    except BaseException as exc:  # a deadlock or a lost update is not
                        db.session.rollback()
                        failures.append(exc)
                db.session.remove()

        threads = [threading.Thread(target=run, args=(w,))
                   for w in (chair_work, secretary_work, tablet_work, pause_work)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert failures == []
        with app.app_context():
            revisions = list(db.session.scalars(select(MeetingEvent.revision).where(
                MeetingEvent.meeting_id == mid).order_by(MeetingEvent.revision)))
            assert revisions == list(range(1, len(revisions) + 1))
            assert db.session.get(Meeting, mid).revision == revisions[-1]
            assert audit.verify().ok
            db.session.remove()
            db.engine.dispose()
