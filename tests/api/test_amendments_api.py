"""Amendments over REST: bad input answers a structured error and changes nothing."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from server.extensions import db
from server.models import Amendment, DraftText
from tests.api.test_drafts_api import login
from tests.services.drafts.conftest import draft  # noqa: F401  (the fixture)

GOOD = {"line_from": 1, "line_to": 2, "new_text": "Điều 1. Mới.", "reasons": "Rõ nghĩa."}


def _rows():
    return (db.session.scalar(select(func.count()).select_from(DraftText)),
            db.session.scalar(select(func.count()).select_from(Amendment)))


@pytest.mark.parametrize("body, field", [
    ({**GOOD, "line_to": 9}, "line_to"),
    ({**GOOD, "line_from": 2, "line_to": 1}, None),
    ({**GOOD, "line_from": 0}, "line_from"),
    ({**GOOD, "reasons": ""}, "reasons"),
    ({**GOOD, "cosigners": [999999]}, "cosigners"),
    ({**GOOD, "extra": 1}, "extra"),
    ({k: v for k, v in GOOD.items() if k != "new_text"}, "new_text"),
])
def test_bad_amendments_are_refused(client, draft, body, field):  # noqa: F811
    login(client, draft.secretary)
    entered = client.post(f"/api/v1/meetings/{draft.meeting.id}/draft-texts",
                          json={"title": "Dự thảo", "text": "Điều 1.\nĐiều 2."})
    assert entered.status_code == 201, entered.get_json()
    assert [line["number"] for line in entered.get_json()["lines"]] == [1, 2]
    login(client, draft.alice)
    before = _rows()
    answer = client.post(f"/api/v1/draft-texts/{entered.get_json()['id']}/amendments", json=body)
    assert answer.status_code == 422, answer.get_json()
    error = answer.get_json()["error"]
    assert error["message"]
    if field:
        assert field in str(error.get("fields", {}))
    assert _rows() == before


def test_table_admit_vote_over_rest(client, draft):  # noqa: F811
    login(client, draft.secretary)
    assert client.post(f"/api/v1/meetings/{draft.meeting.id}/draft-texts",
                       json={"title": "", "text": "x"}).status_code == 422
    did = client.post(f"/api/v1/meetings/{draft.meeting.id}/draft-texts",
                      json={"title": "Dự thảo", "text": "Điều 1.\nĐiều 2."}).get_json()["id"]
    login(client, draft.alice)
    tabled = client.post(f"/api/v1/draft-texts/{did}/amendments", json=GOOD)
    assert tabled.status_code == 201 and tabled.get_json()["old_text"] == "Điều 1.\nĐiều 2."
    aid = tabled.get_json()["id"]
    assert client.post(f"/api/v1/amendments/{aid}/admission",
                       json={"admitted": True}).status_code == 403
    login(client, draft.chair)
    assert client.post(f"/api/v1/amendments/{aid}/admission",
                       json={"admitted": False}).status_code == 422  # a refusal says why
    assert client.post(f"/api/v1/amendments/{aid}/admission",
                       json={"admitted": True}).get_json()["position"] == 1
    assert client.put(f"/api/v1/draft-texts/{did}/queue",
                      json={"amendments": [aid, aid]}).status_code == 422
    assert client.post(f"/api/v1/draft-texts/{did}/vote", json={}).status_code == 409
    poll = client.post(f"/api/v1/amendments/{aid}/vote",
                       json={"quorum_required": False, "kind": "secret", "majority": "absolute"})
    assert poll.status_code == 201, poll.get_json()
    assert poll.get_json()["status"] == "open" and poll.get_json()["kind"] == "secret"
    view = client.get(f"/api/v1/draft-texts/{did}").get_json()
    assert view["under_vote_id"] == aid and view["amendments"][0]["outcome"] == "voting"
    assert client.post(f"/api/v1/amendments/{aid}/vote", json={}).status_code == 409
    assert client.get("/api/v1/draft-texts/999999").status_code == 404
