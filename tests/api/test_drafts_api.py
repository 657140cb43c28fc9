"""Drafts over REST: a delegate comments, the office answers, the exports download."""
from __future__ import annotations

import io
import uuid

import pymupdf
import pytest
from openpyxl import load_workbook

from server.models import User
from server.extensions import db
from tests.services.drafts.conftest import draft  # noqa: F401  (the fixture)

LATER = "2099-01-01T08:00:00+07:00"


def login(client, actor):
    user = db.session.get(User, actor.user.id)
    client.post("/api/v1/auth/logout")
    answer = client.post("/api/v1/auth/login", json={"username": user.username,
                                                      "password": "correct horse battery staple"})
    assert answer.status_code == 200


def test_comment_answer_and_download(client, draft):  # noqa: F811
    login(client, draft.secretary)
    opened = client.post(f"/api/v1/documents/{draft.document.id}/comment-periods",
                         json={"deadline": LATER, "title": "Nghị quyết đầu tư công 2027"})
    assert opened.status_code == 201, opened.get_json()
    cid = opened.get_json()["id"]
    assert opened.get_json()["open"] is True

    login(client, draft.alice)
    listed = client.get(f"/api/v1/meetings/{draft.meeting.id}/comment-periods").get_json()
    assert [c["id"] for c in listed] == [cid] and listed[0]["can_comment"]
    comment_id = str(uuid.uuid4())
    body = {"comment_period_id": cid, "page_number": 1, "region": [0.05, 0.1, 0.95, 0.16],
            "kind": "substantive", "text": "=Giảm vốn xuống 1.000 tỷ đồng"}
    saved = client.put(f"/api/v1/comments/{comment_id}", json=body)
    assert saved.status_code == 200, saved.get_json()
    assert saved.get_json()["quote"] == "Điều 1. Phê duyệt kế hoạch đầu tư công năm 2027"
    assert saved.get_json()["response"] is None
    bad = client.put(f"/api/v1/comments/{uuid.uuid4()}", json={**body, "region": [0.9, 0.1, 0.1, 0.2]})
    assert bad.status_code == 422

    login(client, draft.bao)
    assert client.get(f"/api/v1/comment-periods/{cid}/comments").get_json() == []
    assert client.post(f"/api/v1/comments/{comment_id}/response",
                       json={"response": "accepted"}).status_code == 403

    login(client, draft.secretary)
    answered = client.post(f"/api/v1/comments/{comment_id}/response",
                           json={"response": "explained", "text": "Giữ nguyên theo Luật."})
    assert answered.status_code == 200 and answered.get_json()["response"] == "explained"
    pdf = client.get(f"/api/v1/comment-periods/{cid}/report.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    with pymupdf.open("pdf", pdf.data) as document:
        text = " ".join("".join(p.get_text() for p in document).split())
    assert "=Giảm vốn xuống 1.000 tỷ đồng" in text and "Giữ nguyên theo Luật." in text
    sheet = client.get(f"/api/v1/comment-periods/{cid}/report.xlsx?lang=en")
    assert sheet.status_code == 200
    values = [c.value for row in load_workbook(io.BytesIO(sheet.data)).active.iter_rows()
              for c in row]
    assert "'=Giảm vốn xuống 1.000 tỷ đồng" in values and "Explained" in values

    closed = client.patch(f"/api/v1/comment-periods/{cid}", json={"deadline": "2020-01-01T00:00:00Z"})
    assert closed.status_code == 200 and closed.get_json()["open"] is False
    login(client, draft.alice)
    late = client.put(f"/api/v1/comments/{comment_id}", json={**body, "text": "Sửa muộn"})
    assert late.status_code == 409
    assert late.get_json()["error"]["code"] == "comment_period_closed"
    mine = client.get(f"/api/v1/comment-periods/{cid}/comments").get_json()
    # Not published: the office's answer stays with the office.
    assert mine[0]["text"] == "=Giảm vốn xuống 1.000 tỷ đồng" and mine[0]["response"] is None


@pytest.mark.parametrize("change, status", [
    ({"region": [0.1, 0.1, 1.5, 0.2]}, 422),
    ({"region": [0.1, 0.1, 0.2]}, 422),
    ({"kind": "praise"}, 422),
    ({"kind": "substantive", "text": ""}, 422),
    ({"text": "x" * 4001}, 422),
    ({"page_number": 3}, 422),  # the draft has two pages
    ({"page_number": 0}, 422),
    ({"comment_period_id": 2**31 - 1}, 404),
    ({"extra": 1}, 422),
])
def test_bad_comments_are_refused_and_change_nothing(client, draft, change, status):  # noqa: F811
    from server.models import DraftComment

    login(client, draft.secretary)
    cid = client.post(f"/api/v1/documents/{draft.document.id}/comment-periods",
                      json={"deadline": LATER}).get_json()["id"]
    login(client, draft.alice)
    body = {"comment_period_id": cid, "page_number": 1, "kind": "agree", **change}
    answer = client.put(f"/api/v1/comments/{uuid.uuid4()}", json=body)
    assert answer.status_code == status, answer.get_json()
    assert answer.get_json()["error"]["code"]
    assert db.session.query(DraftComment).count() == 0


def test_comments_stay_on_pages_a_new_version_kept(client, draft, tmp_path):  # noqa: F811
    """Version 2 inserts a cover page and rewrites page 2: the comment on page 1 is listed
    on its page 2 (where that page now is), the one on the rewritten page is not; who sees
    which comment is as on version 1."""
    from server.extensions import db as _db
    from server.services.documents import documents
    from tests.pdf.world import upload_file
    from tests.services.drafts.conftest import PAGE_LINES, draft_pdf
    from server.pdf.fonts_minutes import font_path

    login(client, draft.secretary)
    cid = client.post(f"/api/v1/documents/{draft.document.id}/comment-periods",
                      json={"deadline": LATER, "title": "Dự thảo"}).get_json()["id"]
    login(client, draft.alice)
    kept, dropped = str(uuid.uuid4()), str(uuid.uuid4())
    for comment_id, page in ((kept, 1), (dropped, 2)):
        said = client.put(f"/api/v1/comments/{comment_id}", json={
            "comment_period_id": cid, "page_number": page, "kind": "substantive",
            "text": f"Góp ý trang {page}"})
        assert said.status_code == 200, said.get_json()

    doc = pymupdf.open("pdf", draft_pdf())
    doc.insert_page(0, text="Trang bìa", fontname="Noto", fontfile=font_path())
    page = doc[2]
    page.insert_text((72, 400), "Điều 2 (sửa đổi): giao Thường trực HĐND giám sát",
                     fontsize=14, fontname="Noto", fontfile=font_path())
    _document, v2, _ = documents.add_version(draft.secretary, draft.document.id,
                                             upload_file(tmp_path, doc.tobytes()))
    _db.session.commit()
    assert v2.number == 2 and PAGE_LINES

    url = f"/api/v1/documents/{draft.document.id}/versions/2/carried-comments"
    carried = client.get(url)
    assert carried.status_code == 200, carried.get_json()
    assert [(c["id"], c["page_number"], c["carried_from"]) for c in carried.get_json()] == [
        (kept, 2, {"version": 1, "page_number": 1, "comment_period_id": cid})]
    assert client.get(f"/api/v1/documents/{draft.document.id}/versions/1/carried-comments"
                      ).get_json() == []

    login(client, draft.bao)  # not published: not his to see
    assert client.get(url).get_json() == []
    login(client, draft.secretary)
    assert [c["id"] for c in client.get(url).get_json()] == [kept]
    assert client.post(f"/api/v1/comments/{kept}/publish",
                       json={"published": True}).status_code == 200
    login(client, draft.bao)
    shown = client.get(url).get_json()
    assert [(c["id"], c["author"]) for c in shown] == [(kept, "Nguyễn Thị Ánh")]
    assert client.get(f"/api/v1/documents/{draft.document.id}/versions/9/carried-comments"
                      ).status_code == 404
