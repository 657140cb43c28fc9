"""Amendment events over real sockets: tabled and admitted amendments reach the room."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from server.models import AttendanceStatus, MeetingRole, MeetingStatus, Role
from tests import factories
from tests.realtime.clients import LiveClient, login, login_cookie
from tests.realtime.conftest import start_live


def seed():
    secretary = factories.make_user(Role.SECRETARY)
    meeting = factories.make_meeting(status=MeetingStatus.PUBLISHED)
    people = {}
    for key in ("alice", "bao"):
        user = factories.make_user(Role.DELEGATE)
        factories.make_participant(meeting, user=user, role=MeetingRole.DELEGATE,
                                   attendance=AttendanceStatus.PRESENT)
        people[key] = user
    return SimpleNamespace(meeting=meeting, secretary=secretary, **people)


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    from server.extensions import db

    env, context = start_live(tmp_path_factory.mktemp("amendments-live"), before_start=seed)
    yield env
    env.server.stop()
    db.session.remove()
    context.pop()


def socket(env, user) -> LiveClient:
    return LiveClient(env.url, auth={"meeting_id": env.seeded.meeting.id},
                      cookie=login_cookie(env.url, user)).connect()


def test_a_tabled_then_admitted_amendment_reaches_the_room(env):
    world = env.seeded
    bao = socket(env, world.bao)
    try:
        office = login(env.url, world.secretary)
        entered = office.post(f"{env.url}/api/v1/meetings/{world.meeting.id}/draft-texts",
                              json={"title": "Dự thảo", "text": "Điều 1. Cũ.\nĐiều 2."})
        assert entered.status_code == 201, entered.text
        did = entered.json()["id"]
        tabled = login(env.url, world.alice).post(
            f"{env.url}/api/v1/draft-texts/{did}/amendments",
            json={"line_from": 1, "line_to": 1, "new_text": "Điều 1. Mới.", "reasons": "Rõ."})
        assert tabled.status_code == 201, tabled.text
        aid = tabled.json()["id"]
        heard = bao.wait_for_event("draft_text.changed", changed_amendment_id=aid)
        amendment = heard[0]["payload"]["amendments"][0]
        assert amendment["status"] == "tabled" and amendment["diff"] == [
            {"op": "equal", "text": "Điều 1. "}, {"op": "del", "text": "Cũ"},
            {"op": "ins", "text": "Mới"}, {"op": "equal", "text": "."}]
        admitted = office.post(f"{env.url}/api/v1/amendments/{aid}/admission",
                               json={"admitted": True})
        assert admitted.status_code == 200, admitted.text
        heard = bao.wait_for_event("draft_text.changed", count=2, changed_amendment_id=aid)
        assert heard[1]["payload"]["amendments"][0]["position"] == 1
    finally:
        bao.close()
