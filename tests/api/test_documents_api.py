"""Documents over HTTP: upload, pages, text, PDF, versions, push and present, with the
authorisation matrix tablets and staff meet in the room."""
from __future__ import annotations

import pymupdf
import pytest

from tests.pdf import samples
from tests.pdf.world import make_world, post_file


@pytest.fixture
def world(app, auth, secretary):
    app.config["DOCUMENT_RENDER_INLINE"] = True
    world = make_world(secretary)
    auth.login(secretary)
    return world


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def upload(client, world, data=None, **fields):
    response = post_file(client, f"/api/v1/meetings/{world.meeting.id}/documents",
                         data if data is not None else samples.vietnamese(3), **fields)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["document"]


def page_url(document, page=1, ext="png", number=None, size=None):
    number = number or document["current_version"]["number"]
    url = f"/api/v1/documents/{document['id']}/versions/{number}/pages/{page}.{ext}"
    return url + (f"?size={size}" if size else "")


def pixels(png: bytes) -> pymupdf.Pixmap:
    return pymupdf.Pixmap(png)


def differing_fraction(a: pymupdf.Pixmap, b: pymupdf.Pixmap, threshold: int = 24) -> float:
    """Share of pixels that differ by more than ``threshold`` in some channel (so two JPEG
    decoders' rounding does not count)."""
    assert (a.width, a.height, a.n) == (b.width, b.height, b.n)
    sa, sb, n = a.samples, b.samples, a.n
    step = 7  # sample every 7th pixel: enough to measure, quick in Python
    total = differing = 0
    for index in range(0, len(sa) // n, step):
        total += 1
        offset = index * n
        differing += any(abs(sa[offset + c] - sb[offset + c]) > threshold for c in range(n))
    return differing / total


def test_upload_list_and_read_a_document(client, world):
    data = samples.vietnamese(3)
    document = upload(client, world, data, title="Báo cáo KT-XH 2026", access="all")
    assert document["title"] == "Báo cáo KT-XH 2026"
    assert document["current_version"]["page_count"] == 3
    assert document["current_version"]["pages_rendered"] == 3
    assert document["current_version"]["filename"] == "Báo cáo tài chính.pdf"
    listed = client.get(f"/api/v1/meetings/{world.meeting.id}/documents").get_json()
    assert [d["id"] for d in listed] == [document["id"]]
    response = client.get(page_url(document))
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert pixels(response.data).width == 1600
    assert pixels(client.get(page_url(document, size="thumb")).data).width == 400
    text = client.get(f"/api/v1/documents/{document['id']}/versions/1/pages/2/text").get_json()
    assert "Trang 2. Nghị quyết" in text["text"]
    pdf = client.get(f"/api/v1/documents/{document['id']}/versions/1/pdf")
    assert pdf.status_code == 200 and pdf.data == data
    assert "filename*=UTF-8''B%C3%A1o" in pdf.headers["Content-Disposition"]


def test_clean_pages_have_strong_etags_and_answer_304(client, world):
    document = upload(client, world)
    first = client.get(page_url(document), headers=bearer(world.reader_token))
    etag = first.headers["ETag"]
    assert not etag.startswith("W/")
    assert first.headers["Cache-Control"] == "private, max-age=31536000, immutable"
    again = client.get(page_url(document), headers={**bearer(world.reader_token), "If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    jpeg = client.get(page_url(document, ext="jpg"), headers=bearer(world.reader_token))
    assert jpeg.mimetype == "image/jpeg" and jpeg.data[:3] == b"\xff\xd8\xff"
    assert jpeg.headers["ETag"] != etag


def test_a_delegate_not_named_cannot_get_pages_text_or_pdf(client, world):
    document = upload(client, world, access="named", readers=str(world.reader.id))
    base = f"/api/v1/documents/{document['id']}"
    urls = [base, page_url(document), page_url(document, ext="jpg"), f"{base}/versions/1/pdf",
            f"{base}/versions/1/pages/1/text", page_url(document, size="thumb")]
    for url in urls:
        assert client.get(url, headers=bearer(world.other_token)).status_code == 404, url
        assert client.get(url, headers=bearer(world.reader_token)).status_code == 200, url
    listed = client.get(f"/api/v1/meetings/{world.meeting.id}/documents",
                        headers=bearer(world.other_token)).get_json()
    assert listed == []


def test_staff_only_documents_are_hidden_from_delegates(client, world):
    document = upload(client, world, access="staff")
    assert client.get(page_url(document), headers=bearer(world.reader_token)).status_code == 404
    assert client.get(page_url(document), headers=bearer(world.chair_token)).status_code == 200


def test_confidential_pages_reach_delegates_watermarked_and_never_as_pdf_or_text(client, world):
    document = upload(client, world, confidential="true")
    base = f"/api/v1/documents/{document['id']}/versions/1"
    reader = bearer(world.reader_token)
    pdf = client.get(f"{base}/pdf", headers=reader)
    assert pdf.status_code == 403 and pdf.get_json()["error"]["code"] == "confidential"
    assert client.get(f"{base}/pages/1/text", headers=reader).status_code == 403
    assert client.get(f"/api/v1/documents/{document['id']}", headers=reader).get_json()["can_download"] is False
    staff = client.get(page_url(document, ext="jpg"))  # the cached image the stamp starts from
    mine = client.get(page_url(document), headers=reader)
    theirs = client.get(page_url(document), headers=bearer(world.other_token))
    assert mine.status_code == 200 and mine.mimetype == "image/png" and "ETag" not in mine.headers
    assert mine.headers["Cache-Control"] == "private, no-store"
    assert staff.headers["Cache-Control"] == "private, no-store"
    clean, marked, other = pixels(staff.data), pixels(mine.data), pixels(theirs.data)
    covered = differing_fraction(clean, marked)
    assert 0.01 < covered < 0.5  # the watermark covers part of the page, the page shows through
    assert differing_fraction(marked, other) > 0.001  # and names its reader
    band = clean.height - 20  # the foot band carries the name in dark red on white
    assert any(max(abs(p - q) for p, q in zip(marked.pixel(x, band), clean.pixel(x, band))) > 60
               for x in range(0, 1600, 2))
    jpeg = client.get(page_url(document, ext="jpg"), headers=reader)
    assert jpeg.status_code == 200 and jpeg.mimetype == "image/jpeg"


def test_watermark_text_names_reader_and_meeting(client, world):
    from server.pdf import watermark

    lines = ("Nguyễn Thị Hường (#1)", "Kỳ họp thứ 12", "2026-11-25 08:00 UTC")
    tile, band = watermark.reader_marks(lines, 1600)
    assert tile.getbbox() is not None and band.getbbox() is not None
    # The band is rendered text: a different name gives different pixels.
    assert watermark.reader_marks(("Trần Văn Bình (#2)",) + lines[1:], 1600)[1].tobytes() != band.tobytes()


def test_new_version_is_numbered_and_old_pages_stay(client, world):
    document = upload(client, world, data=samples.vietnamese(2))
    response = post_file(client, f"/api/v1/documents/{document['id']}/versions",
                         samples.vietnamese(2, changed_page=2), filename="Báo cáo v2.pdf")
    assert response.status_code == 201
    updated = response.get_json()["document"]
    assert [v["number"] for v in updated["versions"]] == [1, 2]
    assert updated["current_version"]["filename"] == "Báo cáo v2.pdf"
    old = client.get(page_url(document, number=1))
    new = client.get(page_url(updated, number=2, page=2))
    assert old.status_code == new.status_code == 200
    assert old.headers["ETag"] != new.headers["ETag"]


def test_patch_and_delete(client, world):
    document = upload(client, world)
    response = client.patch(f"/api/v1/documents/{document['id']}",
                            json={"access": "named", "readers": [world.reader.id], "confidential": True})
    assert response.status_code == 200
    assert response.get_json()["readers"] == [world.reader.id]
    assert client.patch(f"/api/v1/documents/{document['id']}", json={"colour": "red"}).status_code == 422
    assert client.patch(f"/api/v1/documents/{document['id']}", json={"title": "x"},
                        headers=bearer(world.reader_token)).status_code == 403
    assert client.delete(f"/api/v1/documents/{document['id']}").status_code == 204
    assert client.get(f"/api/v1/documents/{document['id']}").status_code == 404


def test_present_and_push(client, world):
    document = upload(client, world)
    version_id = document["current_version"]["id"]
    url = f"/api/v1/meetings/{world.meeting.id}/present"
    projector = bearer(world.projector_token)
    assert client.get(page_url(document), headers=projector).status_code == 404
    assert client.post(url, json={"version_id": version_id, "page": 2},
                       headers=bearer(world.reader_token)).status_code == 403
    response = client.post(url, json={"version_id": version_id, "page": 2},
                           headers=bearer(world.chair_token))
    assert response.status_code == 200 and response.get_json()["page"] == 2
    assert client.get(page_url(document, page=2), headers=projector).status_code == 200
    assert client.get(f"/api/v1/documents/{document['id']}/versions/1/pdf",
                      headers=projector).status_code == 403
    assert client.post(url, json={"version_id": version_id, "page": 9}).status_code == 422
    assert client.post(url, json={"version_id": 999, "page": 1}).status_code == 404
    pushed = client.post(f"/api/v1/meetings/{world.meeting.id}/push",
                         json={"document_id": document["id"]})
    assert pushed.status_code == 200 and pushed.get_json()["version_id"] == version_id


def test_requests_without_login_get_401(client, world):
    document = upload(client, world)
    client.post("/api/v1/auth/logout")
    assert client.get(page_url(document)).status_code == 401
    assert post_file(client, f"/api/v1/meetings/{world.meeting.id}/documents",
                     samples.vietnamese(1)).status_code == 401


def test_delegates_cannot_upload(client, world):
    response = post_file(client, f"/api/v1/meetings/{world.meeting.id}/documents",
                         samples.vietnamese(1), headers=bearer(world.reader_token))
    assert response.status_code == 403


@pytest.mark.parametrize("url_tail, status", [
    ("pages/1.png?size=huge", 422), ("pages/9.png", 404), ("pages/0.png", 404),
    ("pages/1.gif", 404), ("pages/1/text", 200), ("pages/4/text", 404),
])
def test_bad_page_requests_get_clear_errors(client, world, url_tail, status):
    document = upload(client, world)
    assert client.get(f"/api/v1/documents/{document['id']}/versions/1/{url_tail}").status_code == status
    assert client.get(f"/api/v1/documents/{document['id']}/versions/7/pages/1.png").status_code == 404


def test_openapi_documents_every_document_endpoint(client):
    spec = client.get("/api/openapi.json").get_json()
    paths = spec["paths"]
    upload_op = paths["/api/v1/meetings/{meeting_id}/documents"]["post"]
    assert "multipart/form-data" in upload_op["requestBody"]["content"]
    page = paths["/api/v1/documents/{document_id}/versions/{number}/pages/{page}.{ext}"]["get"]
    assert "image/png" in page["responses"]["200"]["content"]
    assert any(p["name"] == "size" for p in page["parameters"])
    assert "application/pdf" in paths["/api/v1/documents/{document_id}/versions/{number}/pdf"]["get"]["responses"]["200"]["content"]
    for path in ("/api/v1/documents/{document_id}", "/api/v1/documents/{document_id}/versions",
                 "/api/v1/meetings/{meeting_id}/present", "/api/v1/meetings/{meeting_id}/push",
                 "/api/v1/documents/{document_id}/versions/{number}/pages/{page}/text"):
        assert path in paths


def test_behind_nginx_clean_pages_are_sent_by_nginx_from_the_cache(app, client, world):
    from pathlib import Path

    from server.pdf import render

    document = upload(client, world)
    app.config["ACCEL_REDIRECT"] = "/_pages/"
    response = client.get(page_url(document, ext="jpg"), headers=bearer(world.reader_token))
    assert response.status_code == 200 and response.data == b""
    assert response.mimetype == "image/jpeg"
    assert response.headers["Cache-Control"] == "private, max-age=31536000, immutable"
    sha = document["current_version"]["sha256"]
    assert response.headers["X-Accel-Redirect"] == f"/_pages/{sha[:2]}/{sha}/1-large.jpg"
    cached = render.cache_path(Path(app.config["DATA_DIR"]), sha, 1, "large", "jpg")
    assert cached.read_bytes()[:3] == b"\xff\xd8\xff"
    # The check is still the worker's: a delegate the document is not addressed to gets nothing.
    named = upload(client, world, access="named", readers=str(world.reader.id))
    refused = client.get(page_url(named), headers=bearer(world.other_token))
    assert refused.status_code == 404 and "X-Accel-Redirect" not in refused.headers
    again = client.get(page_url(document, ext="jpg"),
                       headers={**bearer(world.reader_token), "If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304 and "X-Accel-Redirect" not in again.headers


def test_behind_nginx_watermarked_pages_are_still_streamed_by_the_worker(app, client, world):
    document = upload(client, world, confidential="true")
    app.config["ACCEL_REDIRECT"] = "/_pages/"
    marked = client.get(page_url(document), headers=bearer(world.reader_token))
    assert marked.status_code == 200 and "X-Accel-Redirect" not in marked.headers
    assert marked.data[:8] == b"\x89PNG\r\n\x1a\n"
    assert marked.headers["Cache-Control"] == "private, no-store"


def test_without_the_setting_the_worker_streams_every_page(client, world):
    document = upload(client, world)
    response = client.get(page_url(document), headers=bearer(world.reader_token))
    assert "X-Accel-Redirect" not in response.headers
    assert response.data[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_accel_setting_must_be_a_location_path(monkeypatch):
    from server.config import Config

    monkeypatch.setenv("HEMICYCLE_ACCEL_REDIRECT", "_pages")
    with pytest.raises(ValueError, match="leading and a trailing slash"):
        Config.from_env(SECRET_KEY="x")
    monkeypatch.setenv("HEMICYCLE_ACCEL_REDIRECT", "/_pages/")
    assert Config.from_env(SECRET_KEY="x").ACCEL_REDIRECT == "/_pages/"


@pytest.mark.parametrize("name, value, message", [
    ("HEMICYCLE_PAGE_LINK_SECRET", "short", "32 to 128 letters and digits"),
    ("HEMICYCLE_PAGE_LINK_SECRET", "a" * 31 + '"', "32 to 128 letters and digits"),
    ("HEMICYCLE_PAGE_LINK_SECONDS", "0", "5 to 3600"),
    ("HEMICYCLE_PAGE_LINK_SECONDS", "1e3", "5 to 3600"),
])
def test_page_link_settings_are_checked_at_start(monkeypatch, name, value, message):
    from server.config import Config

    monkeypatch.setenv(name, value)  # a quote would end nginx's secure_link_md5 string
    with pytest.raises(ValueError, match=message):
        Config.from_env(SECRET_KEY="x")


def test_without_a_page_link_secret_no_link_is_offered(client, world):
    document = upload(client, world)
    access = client.get(f"/api/v1/documents/{document['id']}/versions/1/pages/access",
                        headers=bearer(world.reader_token))
    assert access.status_code == 204 and "X-Hemicycle-Page-Link" not in access.headers
