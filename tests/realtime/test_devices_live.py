"""Tablets over a real socket: the secretary's remote wipe, battery and connection reports."""
from __future__ import annotations

import pytest

from server.extensions import db
from server.models import Device
from server.services.devices import devices
from tests.realtime.clients import LiveClient, login, login_cookie

pytestmark = pytest.mark.live


def fresh(device_id: int) -> Device:
    db.session.rollback()
    return db.session.get(Device, device_id, populate_existing=True)


def tablet_client(live, seeded) -> LiveClient:
    client = LiveClient(live.url, auth={"token": seeded.tablet_token})
    client.sio.on("wipe", client._recorder("wipe"))
    return client


def staff_client(live, seeded) -> LiveClient:
    return LiveClient(live.url, cookie=login_cookie(live.url, seeded.secretary_user),
                      auth={"meeting_id": seeded.meeting.id})


def test_remote_wipe_reaches_the_tablet_and_its_confirmation_reaches_staff(live, seeded):
    mid, device_id = seeded.meeting.id, seeded.tablet.id
    http = login(live.url, seeded.secretary_user)
    tablet, staff = tablet_client(live, seeded), staff_client(live, seeded)
    with tablet, staff:
        for client in (tablet, staff):
            assert client.call("sync", {"meeting_id": mid})["ok"] is True
        answer = http.post(f"{live.url}/api/v1/devices/{device_id}/wipe", timeout=10)
        assert answer.status_code == 202, answer.text
        [order] = tablet.wait_for_event("device.wipe", device_id=device_id)
        assert order["payload"]["participant_id"] == seeded.tablet.participant_id
        assert not staff.events("device.wipe")  # the tablet's own business; staff get a tick
        staff.wait_for(lambda: order["revision"] in staff.revisions(), what="the tick")
        done = tablet.call("device.wiped", {"meeting_id": mid})
        assert done["ok"] is True and done["wiped_at"], done
        [told] = staff.wait_for_event("device.wiped", device_id=device_id)
        assert told["payload"]["wiped_at"] == done["wiped_at"]
    device = fresh(device_id)
    assert device.wiped_at is not None and not devices.wipe_pending(device)


def test_a_wipe_requested_while_offline_is_sent_when_the_tablet_connects(live, seeded):
    mid, device_id = seeded.meeting.id, seeded.tablet.id
    http = login(live.url, seeded.secretary_user)
    assert http.post(f"{live.url}/api/v1/devices/{device_id}/wipe", timeout=10).status_code == 202
    tablet = tablet_client(live, seeded)
    with tablet:
        tablet.wait_for(lambda: [d for n, d in tablet.received if n == "wipe"],
                        what="the wipe message")
        assert tablet.call("device.wiped", {"meeting_id": mid})["ok"] is True
    tablet = tablet_client(live, seeded)
    with tablet:  # confirmed: the next connection is not asked again
        assert tablet.call("sync", {"meeting_id": mid})["ok"] is True
        assert not [n for n, _ in tablet.received if n == "wipe"]
    assert fresh(device_id).wiped_at is not None


def test_tablet_status_reaches_staff_and_is_stored(live, seeded):
    mid, device_id = seeded.meeting.id, seeded.tablet.id
    tablet, staff = tablet_client(live, seeded), staff_client(live, seeded)
    with tablet, staff:
        assert staff.call("sync", {"meeting_id": mid})["ok"] is True
        answer = tablet.call("device.status", {"meeting_id": mid, "battery": 0.37,
                                               "charging": True, "connection": "wifi"})
        assert answer["ok"] is True and answer["stored"] is True, answer

        def reported():
            for event in staff.events("device.status"):
                for entry in event["payload"]["devices"]:
                    if entry["device_id"] == device_id:
                        return entry
            return None

        entry = staff.wait_for(reported, what="the status on the staff screen")
        assert entry["status"]["battery"] == 0.37 and entry["status"]["charging"] is True
        assert entry["status"]["connection"] == "wifi" and entry["online"] is True
        assert not tablet.events("device.status")  # staff only
        # Too soon: ignored quietly, and the tablet is told when to try again.
        again = tablet.call("device.status", {"meeting_id": mid, "battery": 0.2,
                                              "charging": None, "connection": None})
        assert again["ok"] is True and again["stored"] is False and again["retry_after"] > 0
        listed = login(live.url, seeded.secretary_user).get(
            f"{live.url}/meetings/{mid}/control/devices", timeout=10).json()
        [mine] = [d for d in listed if d["device_id"] == device_id]
        assert mine["status"]["battery"] == 0.37
    device = fresh(device_id)
    assert device.status["connection"] == "wifi" and device.last_seen_at is not None


def test_only_tablets_report_status(live, seeded):
    mid = seeded.meeting.id
    _, projector_token = devices.create_projector(seeded.secretary_actor, mid)
    db.session.commit()
    projector = LiveClient(live.url, auth={"token": projector_token})
    staff = staff_client(live, seeded)
    with projector, staff:
        for sender in (projector, staff):
            for command in ("device.status", "device.wiped"):
                answer = sender.call(command, {"meeting_id": mid})
                assert answer["ok"] is False and answer["error"]["code"] == "tablet_only", answer


@pytest.mark.parametrize("payload, field", [
    ({"battery": 1.5}, "battery"),
    ({"battery": -0.1}, "battery"),
    ({"battery": "full"}, "battery"),
    ({"charging": "yes"}, "charging"),
    ({"connection": "x" * 33}, "connection"),
    ({"connection": "<script>"}, "connection"),
    ({"signal": 3}, "signal"),
])
def test_bad_status_payloads_are_refused(live, seeded, payload, field):
    mid = seeded.meeting.id
    with tablet_client(live, seeded) as tablet:
        answer = tablet.call("device.status", {"meeting_id": mid, **payload})
        assert answer["ok"] is False and answer["error"]["code"] == "invalid_input", answer
        assert field in answer["error"]["fields"]
        wrong = tablet.call("device.status", {"meeting_id": mid + 1000, "battery": 0.5})
        assert wrong["error"]["code"] == "wrong_meeting"
    assert fresh(seeded.tablet.id).status is None
