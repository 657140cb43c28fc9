"""The annotations API: bearer-token tablets save, list, erase and export their annotations."""
from __future__ import annotations

import uuid

import pymupdf
import pytest

from server.models import DocumentAccess, MeetingStatus
from tests import factories
from tests.services.documents.test_annotations import make_document, make_tablet


@pytest.fixture
def world(app):
    meeting = factories.make_meeting(status=MeetingStatus.PUBLISHED)
    alice = factories.make_participant(meeting, full_name="Nguyễn Thị Hường")
    bob = factories.make_participant(meeting, full_name="Lê Văn Bình")
    document = make_document(meeting)
    _, alice_token = make_tablet(alice)
    _, bob_token = make_tablet(bob)
    return {"meeting": meeting, "document": document,
            "version": document.current_version,
            "alice": {"Authorization": f"Bearer {alice_token}"},
            "bob": {"Authorization": f"Bearer {bob_token}"}}


def body(version, **changes):
    data = {"version_id": version.id, "page_number": 1, "kind": "ink", "shared": False,
            "data": {"points": [[0.1, 0.2], [0.3, 0.4]], "color": "#d11f1f", "width": 0.005}}
    data.update(changes)
    return data


def test_put_is_idempotent_and_lists_back(client, world):
    uid = str(uuid.uuid4())
    first = client.put(f"/api/v1/annotations/{uid}", json=body(world["version"]), headers=world["alice"])
    again = client.put(f"/api/v1/annotations/{uid}", json=body(world["version"]), headers=world["alice"])
    assert first.status_code == again.status_code == 200
    assert first.json["id"] == uid and first.json["kind"] == "ink" and not first.json["deleted"]
    listed = client.get(f"/api/v1/documents/{world['document'].id}/versions/1/annotations",
                        headers=world["alice"])
    assert [a["id"] for a in listed.json] == [uid]
    assert listed.json[0]["data"]["points"] == [[0.1, 0.2], [0.3, 0.4]]
    bobs = client.get(f"/api/v1/documents/{world['document'].id}/versions/1/annotations",
                      headers=world["bob"])
    assert bobs.json == []


@pytest.mark.parametrize("changes, field", [
    ({"kind": "scribble"}, "kind"),
    ({"data": {"points": [[1.5, 0.2]]}}, "data"),
    ({"data": {"points": []}}, None),
    ({"kind": "note", "data": {"points": [[0.1, 0.1]], "text": "  "}}, None),
    ({"data": {"points": [[0.1, 0.1]], "color": "red"}}, "data"),
    ({"page_number": 0}, "page_number"),
    ({"unexpected": 1}, "unexpected"),
])
def test_bad_annotations_are_refused_with_422(client, world, changes, field):
    uid = str(uuid.uuid4())
    answer = client.put(f"/api/v1/annotations/{uid}", json=body(world["version"], **changes),
                        headers=world["alice"])
    assert answer.status_code == 422
    assert answer.json["error"]["code"] == "invalid_input"
    if field:
        assert any(k.startswith(field) for k in answer.json["error"]["fields"])
    listed = client.get(f"/api/v1/documents/{world['document'].id}/versions/1/annotations",
                        headers=world["alice"])
    assert listed.json == []


def test_no_token_no_annotations(client, world):
    uid = str(uuid.uuid4())
    assert client.put(f"/api/v1/annotations/{uid}", json=body(world["version"])).status_code == 401
    wrong = {"Authorization": "Bearer not-a-token"}
    assert client.get(f"/api/v1/documents/{world['document'].id}/versions/1/annotations",
                      headers=wrong).status_code == 401


def test_delete_erases_and_cannot_be_done_by_others(client, world):
    uid = str(uuid.uuid4())
    client.put(f"/api/v1/annotations/{uid}", json=body(world["version"]), headers=world["alice"])
    assert client.delete(f"/api/v1/annotations/{uid}", headers=world["bob"]).status_code == 404
    gone = client.delete(f"/api/v1/annotations/{uid}", headers=world["alice"])
    assert gone.status_code == 200 and gone.json["deleted"] is True
    listed = client.get(f"/api/v1/documents/{world['document'].id}/versions/1/annotations",
                        headers=world["alice"])
    assert listed.json == []


def _save(client, world, headers, **changes):
    uid = str(uuid.uuid4())
    answer = client.put(f"/api/v1/annotations/{uid}", json=body(world["version"], **changes),
                        headers=headers)
    assert answer.status_code == 200, answer.json
    return uid


def test_export_has_my_annotations_as_real_pdf_annotations(client, world):
    _save(client, world, world["alice"])
    _save(client, world, world["alice"], page_number=2, kind="highlight",
          data={"points": [[0.1, 0.12], [0.6, 0.12]], "color": "#ffd400", "width": 0.02})
    _save(client, world, world["alice"], page_number=3, kind="note",
          data={"points": [[0.5, 0.5]], "text": "Đề nghị làm rõ số liệu"})
    _save(client, world, world["bob"], page_number=1)  # not in Alice's copy
    answer = client.get(f"/api/v1/documents/{world['document'].id}/versions/1/annotated.pdf",
                        headers=world["alice"])
    assert answer.status_code == 200
    assert answer.mimetype == "application/pdf"
    with pymupdf.open(stream=answer.data, filetype="pdf") as pdf:
        found = {(page.number + 1, annot.type[1]) for page in pdf for annot in page.annots()}
        note = [a for a in pdf[2].annots()][0]
        assert note.info["content"] == "Đề nghị làm rõ số liệu"
    assert found == {(1, "Ink"), (2, "Highlight"), (3, "Text")}


def test_confidential_export_is_built_from_watermarked_pages(client, world, app):
    app.config["DOCUMENT_RENDER_INLINE"] = True
    secret = make_document(world["meeting"], title="Mật", confidential=True,
                           access=DocumentAccess.ALL)
    version = secret.current_version
    uid = str(uuid.uuid4())
    assert client.put(f"/api/v1/annotations/{uid}", json=body(version),
                      headers=world["alice"]).status_code == 200
    # The original is never handed out...
    assert client.get(f"/api/v1/documents/{secret.id}/versions/1/pdf",
                      headers=world["alice"]).status_code == 403
    answer = client.get(f"/api/v1/documents/{secret.id}/versions/1/annotated.pdf",
                        headers=world["alice"])
    assert answer.status_code == 200
    with pymupdf.open(stream=answer.data, filetype="pdf") as pdf:
        assert pdf.page_count == version.page_count
        assert pdf[0].get_text().strip() == ""  # images only: no extractable text
        assert pdf[0].get_images()
        assert [a.type[1] for a in pdf[0].annots()] == ["Ink"]
