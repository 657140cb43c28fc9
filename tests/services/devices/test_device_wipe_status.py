"""Remote wipe of one tablet, tablets' battery and connection reports, items marked done."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from server.errors import Conflict, Forbidden, NotFound
from server.extensions import db
from server.models import AuditEntry, Device, MeetingEvent, utcnow
from server.services.devices import devices
from server.services.session import session
from server.services.actors import Actor
from tests.realtime.seed import seed_meeting


@pytest.fixture
def seeded(app):
    app.config["DEVICE_STATUS_EVENT_INTERVAL"] = 0  # every stored report is published at once
    return seed_meeting()


def events_of(meeting_id, since=0, type=None):
    rows = db.session.scalars(select(MeetingEvent).where(
        MeetingEvent.meeting_id == meeting_id, MeetingEvent.revision > since)
        .order_by(MeetingEvent.revision))
    return [e for e in rows if type is None or e.type == type]


def last_audit():
    return db.session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).one()


def tablet_actor(seeded):
    return Actor.of_device(db.session.get(Device, seeded.tablet.id))


# Remote wipe -------------------------------------------------------------------------

def test_secretary_requests_a_wipe_and_the_tablet_confirms(seeded):
    mid, tablet = seeded.meeting.id, seeded.tablet
    device = devices.request_wipe(seeded.secretary_actor, tablet.id)
    db.session.commit()
    assert device.wipe_requested_at is not None and device.wiped_at is None
    assert devices.wipe_pending(device)
    entry = last_audit()
    assert (entry.action, entry.object_id, entry.actor) == (
        "device.wipe", str(tablet.id), f"user:{seeded.secretary_user.id}")
    [event] = events_of(mid, type="device.wipe")
    assert event.audience == f"participant:{tablet.participant_id}"  # the tablet's delegate only
    assert event.payload["device_id"] == tablet.id

    revision = seeded.meeting.revision
    devices.confirm_wipe(tablet_actor(seeded), mid)
    db.session.commit()
    device = db.session.get(Device, tablet.id)
    assert device.wiped_at >= device.wipe_requested_at and not devices.wipe_pending(device)
    assert last_audit().action == "device.wiped"
    [told] = events_of(mid, revision, type="device.wiped")
    assert told.audience == "staff" and told.payload["wiped_at"] is not None
    # A repeated confirmation changes nothing.
    devices.confirm_wipe(tablet_actor(seeded), mid)
    db.session.commit()
    assert len(events_of(mid, type="device.wiped")) == 1


def test_wipe_is_for_runners_and_live_tablets_only(seeded):
    mid = seeded.meeting.id
    with pytest.raises(Forbidden):
        devices.request_wipe(seeded.delegate_actor, seeded.tablet.id)
    with pytest.raises(NotFound):
        devices.request_wipe(seeded.secretary_actor, 10**6)
    projector, _ = devices.create_projector(seeded.secretary_actor, mid)
    db.session.commit()
    with pytest.raises(Conflict) as error:
        devices.request_wipe(seeded.secretary_actor, projector.id)
    assert error.value.code == "not_a_tablet"
    devices.revoke(seeded.secretary_actor, seeded.tablet.id)
    db.session.commit()
    with pytest.raises(Conflict) as error:
        devices.request_wipe(seeded.secretary_actor, seeded.tablet.id)
    assert error.value.code == "device_revoked"
    assert events_of(mid, type="device.wipe") == []


def test_only_the_tablet_confirms_and_only_a_requested_wipe(seeded):
    mid = seeded.meeting.id
    with pytest.raises(Conflict) as error:
        devices.confirm_wipe(tablet_actor(seeded), mid)
    assert error.value.code == "no_wipe_requested"
    devices.request_wipe(seeded.secretary_actor, seeded.tablet.id)
    db.session.commit()
    with pytest.raises(Forbidden):
        devices.confirm_wipe(seeded.secretary_actor, mid)


def test_wipe_over_rest(seeded, client, auth):
    path = f"/api/v1/devices/{seeded.tablet.id}/wipe"
    assert client.post(path).status_code == 401
    auth.login(seeded.delegate_user)
    assert client.post(path).status_code == 403
    auth.logout()
    auth.login(seeded.secretary_user)
    answer = client.post(path)
    assert answer.status_code == 202, answer.get_json()
    body = answer.get_json()
    assert body["device_id"] == seeded.tablet.id and body["wipe_requested_at"] is not None
    assert body["wiped_at"] is None
    listed = client.get(f"/api/v1/meetings/{seeded.meeting.id}/devices").get_json()
    assert listed[0]["wipe_requested_at"] == body["wipe_requested_at"]
    assert client.post("/api/v1/devices/999999/wipe").status_code == 404
    spec = client.get("/api/openapi.json").get_json()
    assert "/api/v1/devices/{device_id}/wipe" in spec["paths"]


# Battery and connection --------------------------------------------------------------

def test_status_is_stored_throttled_and_published_to_staff(seeded):
    mid = seeded.meeting.id
    now = utcnow()
    device, stored = devices.report_status(tablet_actor(seeded), mid, 0.42, False, "wifi", now=now)
    db.session.commit()
    assert stored
    device = db.session.get(Device, seeded.tablet.id)
    assert device.status["battery"] == 0.42 and device.status["connection"] == "wifi"
    assert device.status["charging"] is False and device.last_seen_at == now
    [event] = events_of(mid, type="device.status")
    assert event.audience == "staff"
    [entry] = event.payload["devices"]
    assert (entry["device_id"], entry["status"]["battery"]) == (seeded.tablet.id, 0.42)
    # A second report within the interval is ignored quietly: nothing stored, nothing published.
    _, stored = devices.report_status(tablet_actor(seeded), mid, 0.10, True, "4g",
                                      now=now + timedelta(seconds=5))
    db.session.commit()
    assert not stored
    assert db.session.get(Device, seeded.tablet.id).status["battery"] == 0.42
    assert len(events_of(mid, type="device.status")) == 1
    # After the interval it counts again.
    _, stored = devices.report_status(tablet_actor(seeded), mid, 0.10, True, "4g",
                                      now=now + devices.STATUS_INTERVAL)
    db.session.commit()
    assert stored and db.session.get(Device, seeded.tablet.id).status["charging"] is True


def test_status_comes_only_from_the_tablet_itself(seeded):
    mid = seeded.meeting.id
    projector, _ = devices.create_projector(seeded.secretary_actor, mid)
    db.session.commit()
    for actor in (seeded.secretary_actor, seeded.chair_actor, Actor.of_device(projector)):
        with pytest.raises(Forbidden):
            devices.report_status(actor, mid, 0.5, None, None)
    assert events_of(mid, type="device.status") == []


def test_status_events_are_coalesced_per_meeting():
    clock = [100.0]
    batches = devices._StatusBatches(clock=lambda: clock[0])
    assert batches.add(1, 10, 2.0) == ({10}, 0.0)       # the first goes at once
    clock[0] += 0.5
    assert batches.add(1, 11, 2.0) == (None, 1.5)       # then one trailing event is scheduled
    assert batches.add(1, 12, 2.0) == (None, -1.0)      # and later reports join it
    assert batches.add(2, 20, 2.0) == ({20}, 0.0)       # other meetings are independent
    clock[0] += 1.5
    assert batches.take(1) == {11, 12}
    clock[0] += 2.0
    assert batches.add(1, 10, 2.0) == ({10}, 0.0)


# Items done --------------------------------------------------------------------------

def test_items_are_done_once_passed_and_undone_when_revisited(seeded):
    chair, mid = seeded.chair_actor, seeded.meeting.id
    first, second, sub, last = seeded.items
    session.open_session(chair, mid)
    session.step_item(chair, mid, 1)                       # 1
    session.step_item(chair, mid, 1)                       # 2
    db.session.commit()
    assert first.done_at is not None and second.done_at is None
    [*_, moved] = events_of(mid, type="item.changed")
    assert moved.payload["previous_item_id"] == first.id
    assert moved.payload["previous_done_at"] == first.done_at.isoformat()
    session.set_current_item(chair, mid, last.id)          # 2 → 3, skipping 2.1
    db.session.commit()
    assert second.done_at is not None and sub.done_at is None
    session.set_current_item(chair, mid, second.id)        # back to 2: under discussion again
    db.session.commit()
    assert second.done_at is None
    assert last.done_at is None                            # going back does not finish 3
    [*_, back] = events_of(mid, type="item.changed")
    assert back.payload["previous_done_at"] is None
    from server.realtime.sync import agenda_tree
    tree = agenda_tree(mid)
    assert tree[0]["done_at"] == first.done_at.isoformat()
    assert tree[1]["done_at"] is None and tree[2]["done_at"] is None
