"""The drafting office's pages and a delegate's comment page, as plain forms."""
from __future__ import annotations

import re
import uuid

from server.extensions import db
from server.models import DraftComment, User
from tests.api.test_drafts_api import login
from tests.services.drafts.conftest import draft, open_for_comments  # noqa: F401


def csrf(html: str) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


def test_open_comment_answer_on_the_pages(client, draft):  # noqa: F811
    login(client, draft.secretary)
    mid = draft.meeting.id
    page = client.get(f"/meetings/{mid}/drafts")
    assert page.status_code == 200
    token = csrf(page.get_data(as_text=True))
    opened = client.post(f"/meetings/{mid}/drafts", data={
        "csrf_token": token, "document_id": str(draft.document.id), "title": "",
        "deadline": "2099-01-01T08:00", "audience": "delegates"})
    assert opened.status_code == 302, opened.get_data(as_text=True)[:500]
    cid = int(opened.headers["Location"].rstrip("/").split("/")[-1])

    login(client, draft.alice)
    mine = client.get(f"/meetings/{mid}/comments")
    assert "Dự thảo Nghị quyết đầu tư công" in mine.get_data(as_text=True)
    page = client.get(f"/meetings/{mid}/comments/{cid}?page=1")
    html = page.get_data(as_text=True)
    comment_id = re.search(r'name="comment_id" value="([^"]+)"', html).group(1)
    form = {"csrf_token": csrf(html), "comment_id": comment_id, "page_number": "1",
            "region": "0.05,0.1,0.95,0.16", "kind": "editorial", "text": "Sửa “năm 2027”."}
    assert client.post(f"/meetings/{mid}/comments/{cid}", data=form).status_code == 302
    assert client.post(f"/meetings/{mid}/comments/{cid}", data=form).status_code == 302  # again
    assert db.session.query(DraftComment).count() == 1
    saved = db.session.get(DraftComment, comment_id)
    assert saved.quote == "Điều 1. Phê duyệt kế hoạch đầu tư công năm 2027"
    bad = client.post(f"/meetings/{mid}/comments/{cid}",
                      data={**form, "comment_id": str(uuid.uuid4()), "text": "", "kind": "editorial"})
    assert bad.status_code == 422
    assert client.get(f"/meetings/{mid}/drafts/{cid}").status_code == 404  # not the office's page

    login(client, draft.bao)
    assert "Sửa “năm 2027”." not in client.get(f"/meetings/{mid}/comments/{cid}").get_data(as_text=True)

    login(client, draft.secretary)
    compiled = client.get(f"/meetings/{mid}/drafts/{cid}").get_data(as_text=True)
    assert "Sửa “năm 2027”." in compiled and "Nguyễn Thị Ánh" in compiled
    answered = client.post(f"/meetings/{mid}/drafts/{cid}/comments/{comment_id}/response", data={
        "csrf_token": csrf(compiled), "response": "accepted", "text": "Đã sửa."})
    assert answered.status_code == 302
    db.session.expire_all()
    assert db.session.get(DraftComment, comment_id).response_text == "Đã sửa."
    refused = client.post(f"/meetings/{mid}/drafts/{cid}/comments/{comment_id}/response", data={
        "csrf_token": csrf(compiled), "response": "explained", "text": ""})
    assert refused.status_code == 422

    login(client, draft.chair)  # staff sees the compilation, but only the office answers
    assert client.get(f"/meetings/{mid}/drafts/{cid}").status_code == 200
    page = client.get(f"/meetings/{mid}/drafts/{cid}").get_data(as_text=True)
    assert client.post(f"/meetings/{mid}/drafts/{cid}/comments/{comment_id}/publish", data={
        "csrf_token": csrf(page), "published": "1"}).status_code == 403
    assert db.session.get(User, draft.chair.user.id) is not None
