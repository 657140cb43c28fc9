"""Uploads over HTTP: hostile files, hostile names and bad fields get a clear 4xx and leave
nothing behind; the server keeps answering."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from server.extensions import db
from server.models import Blob, Document, DocumentVersion
from server.services.documents import storage
from tests.pdf import samples
from tests.pdf.world import make_world, post_file


@pytest.fixture
def world(app, auth, secretary):
    app.config["DOCUMENT_RENDER_INLINE"] = True
    world = make_world(secretary)
    auth.login(secretary)
    return world


HOSTILE_UPLOADS = {
    "garbage": (lambda: b"\x00\x01garbage" * 100, 422, "not_a_pdf"),
    "truncated": (lambda: samples.truncated(0.5), 422, "damaged_pdf"),
    "encrypted": (samples.encrypted, 422, "encrypted_pdf"),
    "zero_pages": (samples.zero_pages, 422, "empty_pdf"),
    "fifty_thousand_pages": (lambda: samples.pages(50_000), 422, "too_many_pages"),
    "enormous_page": (lambda: samples.page_of_size(100_000, 100_000), 422, "page_too_large"),
    "image_bomb": (samples.image_bomb, 422, "image_too_large"),
    "empty_file": (lambda: b"", 422, "empty_file"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE_UPLOADS))
def test_hostile_uploads_are_refused_and_leave_nothing_behind(app, client, world, name):
    factory, status, code = HOSTILE_UPLOADS[name]
    response = post_file(client, f"/api/v1/meetings/{world.meeting.id}/documents", factory(),
                         filename="tai-lieu.pdf")
    assert response.status_code == status, response.get_json()
    assert response.get_json()["error"]["code"] == code
    assert db.session.scalar(select(func.count()).select_from(Blob)) == 0
    assert db.session.scalar(select(func.count()).select_from(Document)) == 0
    data_dir = Path(app.config["DATA_DIR"])
    assert [p for p in (data_dir / "blobs").rglob("*") if p.is_file()] == []
    assert list((data_dir / "tmp").iterdir()) == []
    assert client.get("/healthz").status_code == 200


def test_oversized_uploads_get_413(app, client, world):
    app.config["DOCUMENT_MAX_BYTES"] = 10_000
    response = post_file(client, f"/api/v1/meetings/{world.meeting.id}/documents", samples.many_pages(200))
    assert response.status_code == 413 and response.get_json()["error"]["code"] == "file_too_large"
    app.config["MAX_CONTENT_LENGTH"] = 5_000
    response = post_file(client, f"/api/v1/meetings/{world.meeting.id}/documents", samples.many_pages(200))
    assert response.status_code == 413


def test_javascript_is_removed_and_reported(client, world):
    response = post_file(client, f"/api/v1/meetings/{world.meeting.id}/documents",
                         samples.with_javascript())
    assert response.status_code == 201
    body = response.get_json()
    assert body["notices"]["javascript_removed"] >= 3
    pdf = client.get(f"/api/v1/documents/{body['document']['id']}/versions/1/pdf")
    assert b"/JavaScript" not in pdf.data and b"calc.exe" not in pdf.data


def test_office_upload_without_libreoffice_is_415(app, client, world):
    app.config["SOFFICE_PATH"] = ""
    response = post_file(client, f"/api/v1/meetings/{world.meeting.id}/documents",
                         b"PK\x03\x04" + bytes(200), filename="Tờ trình.docx")
    assert response.status_code == 415
    assert response.get_json()["error"]["code"] == "conversion_unavailable"
    response = post_file(client, f"/api/v1/meetings/{world.meeting.id}/documents",
                         b"GIF89a" + bytes(200), filename="anh.gif")
    assert response.status_code == 415


@pytest.mark.parametrize("filename, expected", [
    ("../../etc/passwd.pdf", "passwd.pdf"),
    # Backslashes are escapes in the multipart header: the server gets "....windowssystem.ini.pdf"
    ("..\\..\\windows\\system.ini.pdf", "windowssystem.ini.pdf"),
    ("bi\x00ên\x1fbản\x7f.pdf", "biênbản.pdf"),
    ("Bie\u0302n ba\u0309n ho\u0323p.pdf", "Biên bản họp.pdf"),  # NFD in, NFC out
    ("<script>alert(1)</script>.pdf", "script_.pdf"),
    ("Tờ trình <dự thảo>|5?.pdf", "Tờ trình _dự thảo__5_.pdf"),
])
def test_hostile_filenames_are_sanitised(client, world, filename, expected):
    response = post_file(client, f"/api/v1/meetings/{world.meeting.id}/documents",
                         samples.vietnamese(1), filename=filename)
    assert response.status_code == 201, response.get_json()
    document = response.get_json()["document"]
    assert document["current_version"]["filename"] == expected
    assert "/" not in document["title"]


def test_very_long_filenames_are_cut_on_a_character_boundary(client, world):
    response = post_file(client, f"/api/v1/meetings/{world.meeting.id}/documents",
                         samples.vietnamese(1), filename="Nghị quyết " * 100 + ".pdf")
    filename = response.get_json()["document"]["current_version"]["filename"]
    assert filename.endswith(".pdf") and len(filename.encode()) <= storage.MAX_FILENAME_BYTES
    assert filename.startswith("Nghị quyết Nghị")
    version = db.session.scalars(select(DocumentVersion)).one()
    assert version.filename == filename


@pytest.mark.parametrize("fields, field", [
    ({"access": "everyone"}, "access"),
    ({"agenda_item_id": "abc"}, "agenda_item_id"),
    ({"agenda_item_id": "99999"}, "agenda_item_id"),
    ({"readers": "1,x"}, "readers.1"),
    ({"readers": "99999"}, "readers"),
    ({"title": "x" * 501}, "title"),
    ({"colour": "red"}, "colour"),
    ({"confidential": "perhaps"}, "confidential"),
])
def test_bad_upload_fields_get_422_naming_the_field(app, client, world, fields, field):
    response = post_file(client, f"/api/v1/meetings/{world.meeting.id}/documents",
                         samples.vietnamese(1), **fields)
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]
    assert db.session.scalar(select(func.count()).select_from(Blob)) == 0


def test_uploads_to_unknown_or_invisible_meetings_get_404(app, client, world):
    assert post_file(client, "/api/v1/meetings/424242/documents", samples.vietnamese(1)).status_code == 404
    response = post_file(client, f"/api/v1/meetings/{world.meeting.id}/documents", b"",
                         filename="")
    assert response.status_code == 422 and "file" in response.get_json()["error"]["fields"]
