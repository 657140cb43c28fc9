"""Who may connect: staff by session cookie, tablets and projectors by token; others refused."""
from __future__ import annotations

import pytest

from server.extensions import db
from server.models import Device
from server.services.devices import devices
from tests import factories
from tests.realtime.clients import LiveClient, login_cookie, refused_reason

pytestmark = pytest.mark.live


def test_staff_connects_with_the_session_cookie(live, seeded):
    cookie = login_cookie(live.url, seeded.secretary_user)
    with LiveClient(live.url, cookie=cookie, auth={"meeting_id": seeded.meeting.id}) as client:
        answer = client.call("sync", {"meeting_id": seeded.meeting.id})
    assert answer["ok"] is True and answer["mode"] == "snapshot"
    snapshot = answer["snapshot"]
    assert snapshot["meeting"]["id"] == seeded.meeting.id
    assert [item["number"] for item in snapshot["agenda"]] == ["1", "2", "3"]
    assert snapshot["agenda"][1]["children"][0]["number"] == "2.1"
    assert answer["online"] == []  # staff see which tablets are online


def test_tablet_and_projector_connect_with_their_tokens(live, seeded):
    projector, token = devices.create_projector(seeded.secretary_actor, seeded.meeting.id)
    db.session.commit()
    with LiveClient(live.url, auth={"token": seeded.tablet_token}) as tablet, \
            LiveClient(live.url, auth={"token": token}) as screen:
        for client in (tablet, screen):
            answer = client.call("sync", {"meeting_id": seeded.meeting.id, "since_revision": 0})
            assert answer["ok"] is True, answer
            assert "online" not in answer
        # The tablet came online: its device counts one connection.
        db.session.remove()
        assert db.session.get(Device, seeded.tablet.id).connections == 1
    tablet.wait_for(lambda: (db.session.remove(),
                             db.session.get(Device, seeded.tablet.id).connections == 0)[1],
                    what="the tablet going offline")


@pytest.mark.parametrize("auth, code", [
    (None, None),
    ({}, None),
    ({"token": "not-a-token"}, "invalid_token"),
    ({"token": 12345}, "invalid_token"),
    ({"token": "x" * 5000}, "invalid_token"),
    ({"meeting_id": 1}, None),  # no cookie
])
def test_refused_without_credentials(live, seeded, auth, code):
    reason = refused_reason(live.url, auth=auth)
    assert reason.get("message")
    if code:
        assert reason["data"]["code"] == code


@pytest.mark.parametrize("meeting_id", [None, "1", -3, True, 10**9])
def test_staff_must_name_a_visible_meeting(live, seeded, meeting_id):
    cookie = login_cookie(live.url, seeded.secretary_user)
    reason = refused_reason(live.url, cookie=cookie, auth={"meeting_id": meeting_id})
    assert reason["data"]["code"] in ("meeting_required", "not_found")


def test_outsider_cannot_follow_a_meeting(live, seeded):
    outsider = factories.make_user()
    cookie = login_cookie(live.url, outsider)
    reason = refused_reason(live.url, cookie=cookie, auth={"meeting_id": seeded.meeting.id})
    assert reason["data"]["code"] == "not_found"


def test_revoked_tablet_is_refused_and_cut_off(live, seeded):
    with LiveClient(live.url, auth={"token": seeded.tablet_token}) as tablet:
        devices.revoke(seeded.secretary_actor, seeded.tablet.id)
        db.session.commit()
        # The test process holds no sockets: the server finds out at the next event.
        answer = tablet.call("sync", {"meeting_id": seeded.meeting.id})
        assert answer["ok"] is False and answer["error"]["code"] == "revoked"
        tablet.wait_for(tablet.disconnected.is_set, what="the revoked tablet being disconnected")
    reason = refused_reason(live.url, auth={"token": seeded.tablet_token})
    assert reason["data"]["code"] == "invalid_token"
