"""The minutes and archive over HTTP: draft, edit, preview, finalise, sign twice, search, export."""
from __future__ import annotations

import io
import zipfile

import pytest

from server.extensions import db
from server.models import Role
from server.services.archive.demo_record import DEMO_PASSPHRASE, seed_held_meeting
from tests import factories


@pytest.fixture
def held(app):
    chair = factories.make_user(Role.CHAIR, username="chutoa", full_name="Trần Đức Lương")
    secretary = factories.make_user(Role.SECRETARY, username="thuky", full_name="Lê Thị Thu Hà")
    meeting, _, _ = seed_held_meeting(chair=chair, secretary=secretary)
    db.session.commit()
    return meeting, chair, secretary


def test_the_whole_path_over_http(client, auth, held):
    meeting, chair, secretary = held
    base = f"/api/v1/meetings/{meeting.id}/minutes"
    auth.login(secretary)
    assert client.get(base).status_code == 404  # nothing drafted yet
    response = client.post(base, json={"language": "vi"})
    assert response.status_code == 200, response.get_json()
    minutes = response.get_json()
    assert minutes["status"] == "draft" and minutes["next_signer"] is None
    item_id = minutes["sections"]["items"][0]["id"]
    response = client.patch(base, json={"opening": "Khai mạc lúc 8 giờ.",
                                        "items": {str(item_id): {"notes": "Ghi chú"}}})
    assert response.status_code == 200
    assert response.get_json()["sections"]["items"][0]["notes"] == "Ghi chú"
    response = client.get(base.replace("/minutes", "/minutes.pdf"))
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    response = client.post(base + "/finalise")
    assert response.status_code == 200 and response.get_json()["next_signer"] == "chair"
    response = client.post(base + "/signatures", json={"passphrase": DEMO_PASSPHRASE})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "signing_order"
    auth.logout()

    auth.login(chair)
    response = client.post(base + "/signatures", json={"passphrase": "wrong passphrase"})
    assert response.status_code == 422
    response = client.post(base + "/signatures", json={"passphrase": DEMO_PASSPHRASE})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["next_signer"] == "secretary"
    auth.logout()

    auth.login(secretary)
    response = client.post(base + "/signatures", json={"passphrase": DEMO_PASSPHRASE})
    assert response.status_code == 201
    body = response.get_json()
    assert body["status"] == "signed" and [s["role"] for s in body["signatures"]] == [
        "chair", "secretary"]
    assert client.patch(base, json={"opening": "x"}).status_code in (403, 409)

    hits = client.get("/api/v1/archive/search", query_string={"q": "khai mac luc"}).get_json()
    assert hits and hits[0]["meeting_id"] == meeting.id
    assert "Khai mạc lúc 8 giờ." in hits[0]["snippet"]
    day = meeting.starts_at.date().isoformat()
    assert client.get("/api/v1/archive/search",
                      query_string={"q": "khai mac", "from": day, "to": day}).get_json()
    assert client.get("/api/v1/archive/search",
                      query_string={"q": "khai mac", "to": "2000-01-01"}).get_json() == []
    sealed = client.get("/api/v1/archive/meetings").get_json()
    assert [m["id"] for m in sealed] == [meeting.id]
    response = client.get(f"/api/v1/archive/meetings/{meeting.id}/package")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(response.data)).namelist()
    assert f"hemicycle-meeting-{meeting.id}/data/minutes/minutes-signed.pdf" in names


@pytest.mark.parametrize("query", [{}, {"q": ""}, {"q": "x", "from": "not a date"},
                                   {"q": "x", "unknown": "1"}])
def test_bad_search_queries_are_422(client, auth, secretary, query):
    auth.login(secretary)
    response = client.get("/api/v1/archive/search", query_string=query)
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "invalid_input"


def test_delegates_cannot_search_the_archive(client, auth, app):
    auth.login(factories.make_user(Role.DELEGATE))
    assert client.get("/api/v1/archive/search", query_string={"q": "x"}).status_code == 403
    assert client.get("/api/v1/archive/meetings").status_code == 403


def test_bad_edits_are_422(client, auth, held):
    meeting, _chair, secretary = held
    auth.login(secretary)
    base = f"/api/v1/meetings/{meeting.id}/minutes"
    client.post(base, json={})
    for body in ({"attendance": []}, {"opening": 3}, {"language": "fr"}, [1, 2]):
        response = client.patch(base, json=body)
        assert response.status_code == 422, body


def test_certificate_upload(client, auth, app):
    from tests import pki
    from tests.services.minutes.test_signing import _external_pkcs12

    user = factories.make_user(Role.CHAIR)
    auth.login(user)
    forged = pki.self_signed("Nguyễn Văn Ký").pkcs12("token-pass")
    response = client.post("/api/v1/users/me/certificates",
                           data={"file": (io.BytesIO(forged), "ky.p12"), "passphrase": "token-pass"},
                           content_type="multipart/form-data")
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "certificate_untrusted"
    data = _external_pkcs12(app, "Nguyễn Văn Ký", b"token-pass")
    response = client.post("/api/v1/users/me/certificates",
                           data={"file": (io.BytesIO(data), "ky.p12"), "passphrase": "token-pass"},
                           content_type="multipart/form-data")
    assert response.status_code == 201, response.get_json()
    assert "Nguyễn Văn Ký" in response.get_json()["subject"]
    response = client.post("/api/v1/users/me/certificates",
                           data={"file": (io.BytesIO(b"junk"), "x.p12"), "passphrase": "token-pass"},
                           content_type="multipart/form-data")
    assert response.status_code == 422
    assert len(client.get("/api/v1/users/me/certificates").get_json()) == 1


def test_openapi_lists_the_endpoints(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]
    assert "/api/v1/meetings/{meeting_id}/minutes/signatures" in paths
    params = {p["name"] for p in paths["/api/v1/archive/search"]["get"]["parameters"]}
    assert params == {"q", "body", "from", "to"}
