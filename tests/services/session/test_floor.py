"""The floor: request, withdraw, grant with a countdown, reorder, end; every speech recorded."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from server.errors import Conflict, Forbidden
from server.extensions import db
from server.models import MeetingEvent, SpeakerRequest, SpeakerStatus
from server.services.devices import devices
from server.services.session import floor, session
from server.services.actors import Actor
from tests.realtime.seed import seed_meeting


@pytest.fixture
def seeded(app):
    seeded = seed_meeting(default_speaking_seconds=120)
    session.open_session(seeded.chair_actor, seeded.meeting.id)
    session.step_item(seeded.chair_actor, seeded.meeting.id, 1)
    db.session.commit()
    return seeded


def queue_names(meeting_id):
    return [entry["participant_id"] for entry in floor.floor_state(meeting_id)["queue"]]


def test_request_and_withdraw(seeded):
    mid, tablet = seeded.meeting.id, Actor.of_device(seeded.tablet)
    first = floor.request_floor(seeded.delegate_actor, mid)
    second = floor.request_floor(tablet, mid)
    db.session.commit()
    assert queue_names(mid) == [seeded.delegates[0].id, seeded.delegates[1].id]
    assert first.agenda_item_id == seeded.items[0].id
    with pytest.raises(Conflict):
        floor.request_floor(tablet, mid)
    floor.withdraw(tablet, mid)
    db.session.commit()
    assert second.status == SpeakerStatus.WITHDRAWN
    assert queue_names(mid) == [seeded.delegates[0].id]
    with pytest.raises(Conflict):
        floor.withdraw(tablet, mid)
    event = db.session.scalar(select(MeetingEvent).order_by(MeetingEvent.revision.desc()).limit(1))
    assert event.type == "floor.changed" and len(event.payload["queue"]) == 1


def test_projector_cannot_request(seeded):
    projector, _ = devices.create_projector(seeded.secretary_actor, seeded.meeting.id)
    db.session.commit()
    with pytest.raises(Forbidden):
        floor.request_floor(Actor.of_device(projector), seeded.meeting.id)


def test_grant_starts_a_timed_speech(seeded):
    mid = seeded.meeting.id
    request = floor.request_floor(seeded.delegate_actor, mid)
    floor.grant(seeded.chair_actor, mid, request.id)
    db.session.commit()
    state = floor.floor_state(mid)
    speaking = state["speaking"]
    assert speaking["participant_id"] == seeded.delegates[0].id
    assert speaking["time_limit_seconds"] == 120
    started = datetime.fromisoformat(speaking["started_at"])
    assert datetime.fromisoformat(speaking["ends_at"]) == started + timedelta(seconds=120)
    assert state["queue"] == []


def test_granting_the_next_speaker_ends_the_current_speech(seeded):
    mid, chair = seeded.meeting.id, seeded.chair_actor
    first = floor.request_floor(seeded.delegate_actor, mid)
    second = floor.request_floor(Actor.of_device(seeded.tablet), mid)
    floor.grant(chair, mid, first.id, time_limit_seconds=60)
    floor.grant(chair, mid, second.id, time_limit_seconds=0)
    db.session.commit()
    assert first.status == SpeakerStatus.DONE and first.ended_at is not None
    assert second.status == SpeakerStatus.SPEAKING and second.time_limit_seconds is None
    assert floor.floor_state(mid)["speaking"]["ends_at"] is None  # no limit: no countdown
    with pytest.raises(Conflict):
        floor.grant(chair, mid, first.id)


def test_delegate_cannot_grant_reorder_or_cancel(seeded):
    mid = seeded.meeting.id
    request = floor.request_floor(seeded.delegate_actor, mid)
    db.session.commit()
    for attempt in (lambda: floor.grant(seeded.delegate_actor, mid, request.id),
                    lambda: floor.reorder(seeded.delegate_actor, mid, [request.id]),
                    lambda: floor.cancel(seeded.delegate_actor, mid, request.id)):
        with pytest.raises(Forbidden):
            attempt()
    db.session.rollback()
    assert request.status == SpeakerStatus.WAITING


def test_reorder_and_cancel(seeded):
    mid, chair = seeded.meeting.id, seeded.chair_actor
    a = floor.request_floor(seeded.delegate_actor, mid)
    b = floor.request_floor(Actor.of_device(seeded.tablet), mid)
    floor.reorder(chair, mid, [b.id, a.id])
    db.session.commit()
    assert queue_names(mid) == [seeded.delegates[1].id, seeded.delegates[0].id]
    with pytest.raises(Conflict):
        floor.reorder(chair, mid, [a.id])  # stale: b is missing
    floor.cancel(chair, mid, b.id)
    assert queue_names(mid) == [seeded.delegates[0].id]


def test_end_speech_by_chair_or_speaker(seeded):
    mid = seeded.meeting.id
    tablet = Actor.of_device(seeded.tablet)
    with pytest.raises(Conflict):
        floor.end_speech(seeded.chair_actor, mid)
    first = floor.request_floor(tablet, mid)
    floor.grant(seeded.chair_actor, mid, first.id)
    with pytest.raises(Forbidden):
        floor.end_speech(seeded.delegate_actor, mid)  # not their speech
    floor.end_speech(tablet, mid)  # the speaker ends their own
    second = floor.request_floor(seeded.delegate_actor, mid)
    floor.grant(seeded.chair_actor, mid, second.id)
    floor.end_speech(seeded.chair_actor, mid)
    db.session.commit()
    speeches = db.session.scalars(select(SpeakerRequest).where(
        SpeakerRequest.status == SpeakerStatus.DONE).order_by(SpeakerRequest.id)).all()
    assert [(s.participant_id, s.agenda_item_id) for s in speeches] == [
        (seeded.delegates[1].id, seeded.items[0].id), (seeded.delegates[0].id, seeded.items[0].id)]
    assert all(s.started_at <= s.ended_at for s in speeches)


def test_no_requests_outside_a_live_session(app):
    seeded = seed_meeting(pair_tablet=False)
    with pytest.raises(Conflict):
        floor.request_floor(seeded.delegate_actor, seeded.meeting.id)
