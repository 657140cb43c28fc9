"""Written consultations over real sockets: the office follows the answers as they come,
each member hears only its own answer, a reminder reaches those who have not answered,
and everyone hears the extension and the result."""
from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest

from server.models import MeetingStatus, Role, utcnow
from tests import factories
from tests.realtime.clients import LiveClient, login, login_cookie, refused_reason
from tests.realtime.conftest import start_live


def seed():
    meeting = factories.make_meeting(status=MeetingStatus.PUBLISHED)
    return SimpleNamespace(meeting=meeting, secretary=factories.make_user(Role.SECRETARY),
                           alice=factories.make_user(Role.DELEGATE),
                           bao=factories.make_user(Role.DELEGATE),
                           outsider=factories.make_user(Role.DELEGATE))


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    from server.extensions import db

    env, context = start_live(tmp_path_factory.mktemp("consultations-live"), before_start=seed)
    yield env
    env.server.stop()
    db.session.remove()
    context.pop()


def socket(env, user) -> LiveClient:
    return LiveClient(env.url, auth={"consultations": True},
                      cookie=login_cookie(env.url, user)).connect()


def test_office_sees_progress_members_see_only_their_own(env):
    world = env.seeded
    office, alice, bao, outsider = (socket(env, u) for u in (
        world.secretary, world.alice, world.bao, world.outsider))
    try:
        office_http = login(env.url, world.secretary)
        sent = office_http.post(f"{env.url}/api/v1/consultations", json={
            "title": "Xin ý kiến", "question": "Đồng ý?", "allow_change": True,
            "closes_at": (utcnow() + timedelta(hours=2)).isoformat(),
            "members": [{"user_id": world.alice.id}, {"user_id": world.bao.id, "weight": 2}]})
        assert sent.status_code == 201, sent.text
        cid = sent.json()["id"]
        office.wait_for_consultation("consultation.opened", id=cid, answers_count=0)
        bao.wait_for_consultation("consultation.opened", id=cid, my_answer=None)
        alice.wait_for_consultation("consultation.opened", id=cid)

        alice_http = login(env.url, world.alice)
        said = alice_http.put(f"{env.url}/api/v1/consultations/{cid}/answer",
                              json={"choice": "no", "comment": "Chưa rõ"})
        assert said.status_code == 200, said.text
        office.wait_for_consultation("consultation.answered", id=cid, answers_count=1,
                                     answered_by=[world.alice.id])
        mine = alice.wait_for_consultation("consultation.answered", id=cid)[0]["payload"]
        assert mine["my_answer"]["choice"] == "no" and "answered_by" not in mine

        changed = alice_http.put(f"{env.url}/api/v1/consultations/{cid}/answer",
                                 json={"choice": "yes"})
        assert changed.status_code == 200, changed.text
        alice.wait_for_consultation("consultation.answered", count=2, id=cid)
        office.wait_for_consultation("consultation.answered", count=2, id=cid, answers_count=1)

        later = (utcnow() + timedelta(hours=5)).isoformat()
        moved = office_http.post(f"{env.url}/api/v1/consultations/{cid}/extend",
                                 json={"closes_at": later})
        assert moved.status_code == 200, moved.text
        # Bảo hears the extension; had he been told Alice's answers, they came before it.
        bao.wait_for_consultation("consultation.changed", id=cid)
        assert bao.consultations("consultation.answered") == []
        assert all("Chưa rõ" not in str(m) for m in bao.received)

        reminded = office_http.post(f"{env.url}/api/v1/consultations/{cid}/remind")
        assert reminded.status_code == 200 and reminded.json() == {
            "reminded": [world.bao.id], "email_enabled": False, "emailed": [],
            "email_failed": [], "without_email": [], "email_error": None}
        bao.wait_for_consultation("consultation.reminder", id=cid, my_answer=None)
        office.wait_for_consultation("consultation.reminder", id=cid)

        done = login(env.url, world.bao).put(f"{env.url}/api/v1/consultations/{cid}/answer",
                                             json={"choice": "yes"})
        assert done.status_code == 200, done.text
        closed = office_http.post(f"{env.url}/api/v1/consultations/{cid}/close")
        assert closed.status_code == 200, closed.text
        for client in (office, alice, bao):
            result = client.wait_for_consultation("consultation.closed", id=cid)[0]["payload"]
            assert result["open"] is False and result["result"]["passed"] is True
        assert bao.wait_for_consultation("consultation.closed", id=cid)[0]["payload"][
            "my_answer"]["choice"] == "yes"
        assert outsider.consultations() == []
        assert alice.consultations("consultation.reminder") == []
    finally:
        for client in (office, alice, bao, outsider):
            client.close()


def test_a_consultations_connection_follows_no_meeting(env):
    world = env.seeded
    alice = socket(env, world.alice)
    try:
        refused = alice.call("session.open", {"meeting_id": world.meeting.id})
        assert refused["ok"] is False
        assert refused["error"]["code"] == "wrong_meeting"
    finally:
        alice.close()
    assert refused_reason(env.url, auth={"consultations": True})["data"]["code"] == "not_authenticated"
