"""GET /api/v1/meetings/<id>/documents/search: who may search, what they find, bad input."""
from __future__ import annotations

import pytest

from tests.api.test_documents_api import bearer, upload
from tests.pdf import samples
from tests.pdf.world import make_world


@pytest.fixture
def world(app, auth, secretary):
    app.config["DOCUMENT_RENDER_INLINE"] = True
    world = make_world(secretary)
    auth.login(secretary)
    return world


def search_url(world, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"/api/v1/meetings/{world.meeting.id}/documents/search?{query}"


def test_a_tablet_finds_words_without_diacritics_but_not_in_confidential_text(client, world):
    public = upload(client, world, samples.vietnamese(2), title="Nghị quyết", access="all")
    secret = upload(client, world, samples.vietnamese(1), title="Mật", confidential="true")
    client.post("/logout")
    answer = client.get(search_url(world, q="nguyen thi huong"), headers=bearer(world.reader_token))
    assert answer.status_code == 200
    body = answer.get_json()
    assert [(h["document_id"], h["page"]) for h in body["hits"]] == [(public["id"], 1),
                                                                     (public["id"], 2)]
    assert "Nguyễn Thị Hường" in body["hits"][0]["snippet"] and body["pages_pending_ocr"] == 0
    find = client.get(search_url(world, q="trang", document_id=public["id"]),
                      headers=bearer(world.reader_token)).get_json()
    assert [(h["document_id"], h["page"]) for h in find["hits"]] == [(public["id"], 1),
                                                                     (public["id"], 2)]
    closed = client.get(search_url(world, q="nguyen", document_id=secret["id"]),
                        headers=bearer(world.reader_token))
    assert closed.status_code == 200 and closed.get_json()["hits"] == []


@pytest.mark.parametrize("query, status", [
    ("", 422), ("q=" + "a" * 201, 422), ("q=…", 422), ("q=x&document_id=0", 422),
    ("q=x&document_id=99999999999999999999", 422), ("q=x&extra=1", 422),
    ("q=x&document_id=999999", 404),
])
def test_bad_searches_answer_4xx(client, world, query, status):
    answer = client.get(f"/api/v1/meetings/{world.meeting.id}/documents/search?{query}")
    assert answer.status_code == status, answer.get_json()
    assert "error" in answer.get_json()


def test_strangers_and_projectors_cannot_search(client, world):
    client.post("/logout")
    assert client.get(search_url(world, q="x")).status_code in (401, 404)
    answer = client.get(search_url(world, q="x"), headers=bearer(world.projector_token))
    assert answer.status_code in (403, 404)
