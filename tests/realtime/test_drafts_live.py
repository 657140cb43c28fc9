"""Draft events over real sockets: a comment reaches the office and its author only, until
the office publishes it; then the whole audience hears it, with the answer."""
from __future__ import annotations

import uuid
from types import SimpleNamespace

import pytest

from server.models import AttendanceStatus, MeetingRole, MeetingStatus, Role
from tests import factories
from tests.realtime.clients import LiveClient, login, login_cookie
from tests.realtime.conftest import start_live
from tests.services.documents.test_annotations import make_document
from tests.services.drafts.conftest import draft_pdf

TEXT = "Đề nghị làm rõ nguồn vốn tại Điều 1."


def seed():
    secretary = factories.make_user(Role.SECRETARY)
    meeting = factories.make_meeting(status=MeetingStatus.PUBLISHED)
    people = {}
    for key in ("alice", "bao"):
        user = factories.make_user(Role.DELEGATE)
        factories.make_participant(meeting, user=user, role=MeetingRole.DELEGATE,
                                   attendance=AttendanceStatus.PRESENT)
        people[key] = user
    document = make_document(meeting, draft_pdf(), title="Dự thảo Nghị quyết")
    return SimpleNamespace(meeting=meeting, secretary=secretary, document=document, **people)


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    from server.extensions import db

    env, context = start_live(tmp_path_factory.mktemp("drafts-live"), before_start=seed)
    yield env
    env.server.stop()
    db.session.remove()
    context.pop()


def socket(env, user) -> LiveClient:
    return LiveClient(env.url, auth={"meeting_id": env.seeded.meeting.id},
                      cookie=login_cookie(env.url, user)).connect()


def test_a_comment_is_heard_by_the_office_and_its_author_until_published(env):
    world = env.seeded
    office, alice, bao = (socket(env, u) for u in (world.secretary, world.alice, world.bao))
    try:
        office_http = login(env.url, world.secretary)
        opened = office_http.post(f"{env.url}/api/v1/documents/{world.document.id}/comment-periods",
                                  json={"deadline": "2099-01-01T08:00:00+07:00"})
        assert opened.status_code == 201, opened.text
        cid = opened.json()["id"]
        bao.wait_for_event("draft.opened", id=cid)

        comment_id = str(uuid.uuid4())
        saved = login(env.url, world.alice).put(f"{env.url}/api/v1/comments/{comment_id}", json={
            "comment_period_id": cid, "page_number": 1, "kind": "substantive", "text": TEXT})
        assert saved.status_code == 200, saved.text
        office.wait_for_event("draft.comment.saved", id=comment_id, text=TEXT)
        alice.wait_for_event("draft.comment.saved", id=comment_id, text=TEXT)

        # A later event to the whole audience: had Bảo been sent the comment, it came first.
        moved = office_http.patch(f"{env.url}/api/v1/comment-periods/{cid}",
                                  json={"deadline": "2099-02-01T08:00:00+07:00"})
        assert moved.status_code == 200, moved.text
        bao.wait_for_event("draft.changed", id=cid)
        assert bao.events("draft.comment.saved") == []
        assert all(TEXT not in str(e) for e in bao.events())

        answer = office_http.post(f"{env.url}/api/v1/comments/{comment_id}/response",
                                  json={"response": "explained", "text": "Nguồn vốn ghi ở Phụ lục."})
        assert answer.status_code == 200, answer.text
        # The author hears that the comment changed, not the answer, until it is published.
        told = alice.wait_for_event("draft.comment.saved", count=2, id=comment_id)
        assert [e["payload"]["response_text"] for e in told] == [None, None]
        published = office_http.post(f"{env.url}/api/v1/comments/{comment_id}/publish",
                                     json={"published": True})
        assert published.status_code == 200, published.text
        heard = bao.wait_for_event("draft.comment.saved", id=comment_id, published=True)
        assert heard[0]["payload"]["text"] == TEXT
        assert heard[0]["payload"]["response_text"] == "Nguồn vốn ghi ở Phụ lục."
    finally:
        for client in (office, alice, bao):
            client.close()
