"""The secretary's documents page: upload, new version, settings, removal."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from server.extensions import db
from server.models import Document, DocumentAccess, Role
from tests import factories
from tests.pdf import samples
from tests.pdf.world import make_world


@pytest.fixture
def world(app, auth, secretary):
    app.config["DOCUMENT_RENDER_INLINE"] = True
    world = make_world(secretary)
    factories.make_item(world.meeting, "Thông qua nghị quyết")
    auth.login(secretary)
    return world


def post(client, url, data=None, filename="Tờ trình.pdf", **fields):
    form = dict(fields)
    if data is not None:
        form["file"] = (io.BytesIO(data), filename)
    return client.post(url, data=form, content_type="multipart/form-data")


def test_page_lists_items_and_offers_an_upload_form(client, world):
    page = client.get(f"/meetings/{world.meeting.id}/documents")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'enctype="multipart/form-data"' in html and 'name="csrf_token"' in html
    assert "Thông qua nghị quyết" in html and "Nguyễn Thị Hường" in html


def test_upload_then_replace_then_restrict_then_remove(client, world):
    url = f"/meetings/{world.meeting.id}/documents"
    item = world.meeting.agenda_items[0]
    response = post(client, url, samples.vietnamese(2), title="Tờ trình số 12",
                    agenda_item_id=str(item.id), access="all")
    assert response.status_code == 302
    document = db.session.scalars(select(Document)).one()
    assert (document.title, document.agenda_item_id) == ("Tờ trình số 12", item.id)
    html = client.get(url).get_data(as_text=True)
    assert "Tờ trình số 12" in html and "Tờ trình.pdf" in html

    assert post(client, f"{url}/{document.id}/versions", samples.vietnamese(2, changed_page=1)).status_code == 302
    db.session.refresh(document)
    assert [v.number for v in document.versions] == [1, 2]

    response = client.post(f"{url}/{document.id}/settings", data={
        "title": "Tờ trình số 12 (mật)", "access": "named", "readers": [str(world.reader.id)],
        "confidential": "on", "agenda_item_id": ""})
    assert response.status_code == 302
    db.session.refresh(document)
    assert document.access == DocumentAccess.NAMED and document.confidential
    assert [r.participant_id for r in document.readers] == [world.reader.id]

    assert client.post(f"{url}/{document.id}/delete").status_code == 302
    assert db.session.scalars(select(Document)).all() == []


def test_a_refused_file_shows_the_reason_and_keeps_nothing(client, world):
    response = post(client, f"/meetings/{world.meeting.id}/documents", samples.encrypted())
    assert response.status_code == 422
    assert "encrypted" in response.get_data(as_text=True)
    assert db.session.scalars(select(Document)).all() == []
    response = post(client, f"/meetings/{world.meeting.id}/documents")
    assert response.status_code == 422


def test_delegates_cannot_open_the_page(app, client, auth, world):
    delegate = factories.make_user(Role.DELEGATE)
    factories.make_participant(world.meeting, user=delegate)
    auth.logout()
    auth.login(delegate)
    assert client.get(f"/meetings/{world.meeting.id}/documents").status_code == 403
