"""Documents against the real server process under eventlet: upload, background rendering,
watermarked pages, and hostile files that must not stall or crash it."""
from __future__ import annotations

import time

import pymupdf
import pytest
import requests

from server import create_app
from server.extensions import db
from server.models import Base, Device, MeetingRole
from server.services.tokens import new_token, token_digest
from tests import factories
from tests.conftest import test_config as make_config
from tests.live import LiveServer
from tests.pdf import samples
from tests.pdf.world import make_world

pytestmark = pytest.mark.live


@pytest.fixture
def live_world(tmp_path):
    url = f"sqlite:///{tmp_path / 'live.db'}"
    app = create_app(make_config(tmp_path, DATABASE_URL=url))
    with app.app_context():
        Base.metadata.create_all(db.engine)
        world = make_world()
        secretary = factories.make_participant(world.meeting, role=MeetingRole.SECRETARY)
        token = new_token()
        db.session.add(Device(meeting_id=world.meeting.id, participant_id=secretary.id,
                              token_sha256=token_digest(token)))
        db.session.commit()
        with LiveServer(tmp_path / "data", url) as server:
            yield server, world, token
        db.session.remove()


def upload(server, world, token, data, **fields):
    return requests.post(f"{server.url}/api/v1/meetings/{world.meeting.id}/documents",
                         files={"file": ("Báo cáo.pdf", data, "application/pdf")}, data=fields,
                         headers={"Authorization": f"Bearer {token}"}, timeout=120)


def test_upload_renders_in_the_background_and_serves_watermarked_pages(live_world):
    server, world, token = live_world
    staff = {"Authorization": f"Bearer {token}"}
    reader = {"Authorization": f"Bearer {world.reader_token}"}
    response = upload(server, world, token, samples.many_pages(40), confidential="true")
    assert response.status_code == 201, response.text
    document = response.json()["document"]
    url = f"{server.url}/api/v1/documents/{document['id']}"
    deadline = time.monotonic() + 180  # a bound for a shared machine, not a performance target
    while time.monotonic() < deadline:
        # The server keeps answering while the sandbox renders.
        assert requests.get(f"{server.url}/healthz", timeout=30).status_code == 200
        if requests.get(url, headers=staff, timeout=30).json()["current_version"]["pages_rendered"] == 40:
            break
        time.sleep(0.3)
    assert requests.get(url, headers=staff, timeout=30).json()["current_version"]["pages_rendered"] == 40
    clean = requests.get(f"{url}/versions/1/pages/40.jpg", headers=staff, timeout=30)
    marked = requests.get(f"{url}/versions/1/pages/40.jpg", headers=reader, timeout=30)
    assert clean.status_code == marked.status_code == 200
    assert clean.content != marked.content
    assert pymupdf.Pixmap(marked.content).width == 1600
    assert requests.get(f"{url}/versions/1/pdf", headers=reader, timeout=30).status_code == 403
    assert requests.get(f"{url}/versions/1/pdf", headers=staff, timeout=30).status_code == 200


@pytest.mark.parametrize("name", ["image_bomb", "content_bomb", "truncated", "garbage"])
def test_hostile_uploads_leave_the_server_running(live_world, name):
    server, world, token = live_world
    data = {"image_bomb": samples.image_bomb, "content_bomb": samples.content_bomb,
            "truncated": lambda: samples.truncated(0.5), "garbage": lambda: b"\x00" * 5000}[name]()
    response = upload(server, world, token, data)
    assert 400 <= response.status_code < 500
    assert response.json()["error"]["code"] in {

        "image_too_large", "pdf_too_complex", "pdf_too_slow", "damaged_pdf", "not_a_pdf"}, response.json()
    assert server.process.poll() is None
    assert requests.get(f"{server.url}/healthz", timeout=30).status_code == 200
