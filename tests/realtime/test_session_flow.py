"""A session as the room lives it: check-in and quorum, the floor and its countdown."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from server.extensions import db
from server.services.devices import devices
from tests.realtime.clients import LiveClient, login, login_cookie
from tests.realtime.seed import pair_device

pytestmark = pytest.mark.live


def test_door_check_in_moves_the_live_quorum(live, seeded):
    mid = seeded.meeting.id  # members: the chair and 4 delegates; majority needs 3
    door = login(live.url, seeded.secretary_user).post(
        f"{live.url}/api/v1/meetings/{mid}/door-token", timeout=10).json()["token"]
    second_tablet, second_token = pair_device(seeded, seeded.delegates[2])
    _, projector_token = devices.create_projector(seeded.secretary_actor, mid)
    db.session.commit()
    staff = LiveClient(live.url, cookie=login_cookie(live.url, seeded.secretary_user),
                       auth={"meeting_id": mid})
    projector = LiveClient(live.url, auth={"token": projector_token})
    tablets = [LiveClient(live.url, auth={"token": token})
               for token in (seeded.tablet_token, second_token)]
    with staff, projector, tablets[0], tablets[1]:
        start = projector.call("sync", {"meeting_id": mid})["snapshot"]["quorum"]
        assert (start["present"], start["required"], start["reached"]) == (0, 3, False)
        wrong = tablets[0].call("attendance.check_in", {"meeting_id": mid, "door_token": "nope"})
        assert wrong["error"]["code"] == "invalid_door_token"
        for tablet in tablets:
            answer = tablet.call("attendance.check_in", {"meeting_id": mid, "door_token": door})
            assert answer["ok"] is True and answer["attendance"]["method"] == "door_qr", answer
        marked = staff.call("attendance.mark", {"meeting_id": mid, "status": "present",
                                                "participant_id": seeded.chair.id})
        assert marked["ok"] is True, marked
        excused = staff.call("attendance.mark", {"meeting_id": mid, "status": "excused",
                                                 "participant_id": seeded.delegates[0].id,
                                                 "excuse": "Công tác nước ngoài"})
        assert excused["ok"] is True, excused
        for client in (staff, projector, *tablets):
            changes = client.wait_for_event("attendance.changed", count=4)
            quorums = [(c["payload"]["quorum"]["present"], c["payload"]["quorum"]["reached"])
                       for c in changes]
            assert quorums == [(1, False), (2, False), (3, True), (3, True)]
            assert changes[-1]["payload"]["excuse"] == "Công tác nước ngoài"


def test_floor_with_a_countdown_on_the_projector(live, seeded):
    mid = seeded.meeting.id
    _, projector_token = devices.create_projector(seeded.secretary_actor, mid)
    db.session.commit()
    chair = LiveClient(live.url, cookie=login_cookie(live.url, seeded.chair_user),
                       auth={"meeting_id": mid})
    projector = LiveClient(live.url, auth={"token": projector_token})
    tablet = LiveClient(live.url, auth={"token": seeded.tablet_token})
    with chair, projector, tablet:
        assert chair.call("session.open", {"meeting_id": mid})["ok"] is True
        assert chair.call("item.next", {"meeting_id": mid})["ok"] is True
        request_id = tablet.call("floor.request", {"meeting_id": mid})["request_id"]
        again = tablet.call("floor.request", {"meeting_id": mid})
        assert again["error"]["code"] == "already_requested"
        granted = chair.call("floor.grant", {"meeting_id": mid, "request_id": request_id,
                                             "time_limit_seconds": 90})
        assert granted["ok"] is True, granted

        def speech():
            states = [e["payload"] for e in projector.events("floor.changed")]
            return states[-1]["speaking"] if states and states[-1]["speaking"] else None

        speaking = projector.wait_for(speech, what="the speech on the projector")
        assert speaking["participant_id"] == seeded.delegates[1].id
        assert speaking["agenda_item_id"] == seeded.items[0].id
        started = datetime.fromisoformat(speaking["started_at"])
        assert datetime.fromisoformat(speaking["ends_at"]) == started + timedelta(seconds=90)
        assert tablet.call("floor.end", {"meeting_id": mid})["ok"] is True  # the speaker stops
        projector.wait_for(lambda: projector.events("floor.changed")[-1]["payload"]["speaking"]
                           is None, what="the speech ending on the projector")
