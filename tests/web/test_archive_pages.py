"""The archive page: search form, hits with snippets, downloads; archivists only."""
from __future__ import annotations

import pytest

from server.models import Role
from server.services.archive.demo_record import seed_sealed_meeting
from tests import factories


@pytest.fixture
def sealed(app):
    return seed_sealed_meeting()


def test_archivist_searches_and_downloads(client, auth, secretary, sealed):
    auth.login(secretary)
    page = client.get("/archive").get_data(as_text=True)
    assert sealed.title in page and "Hội đồng nhân dân tỉnh Lâm Đồng" in page
    page = client.get("/archive", query_string={"q": "cao toc tan phu", "lang": "vi"}).get_data(as_text=True)
    assert "Đường cao tốc Tân Phú - Bảo Lộc" in page
    page = client.get("/archive", query_string={"q": "cao toc", "to": "2000-01-01"})
    assert "Đường cao tốc" not in page.get_data(as_text=True)
    page = client.get("/archive", query_string={"q": "x", "from": "yesterday"})
    assert page.status_code == 200 and 'role="alert"' in page.get_data(as_text=True)
    response = client.get(f"/archive/{sealed.id}/minutes.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    response = client.get(f"/archive/{sealed.id}/package.zip")
    assert response.status_code == 200 and response.data.startswith(b"PK")


def test_archive_is_for_archivists(client, auth, app):
    assert client.get("/archive").status_code in (302, 401)
    auth.login(factories.make_user(Role.DELEGATE))
    assert client.get("/archive").status_code == 403
