"""The documented nginx configuration (docs/DEPLOYMENT.md) in front of a real `hemicycle serve`:
page images sent by nginx from the page cache after the worker's check."""
from __future__ import annotations

import pytest
import requests

from bench.nginx import binary as nginx_binary, front
from server import create_app
from server.extensions import db
from server.models import Base, Device, MeetingRole
from server.pdf import render
from server.services.tokens import new_token, token_digest
from tests import factories
from tests.conftest import service_unavailable, test_config as make_config
from tests.live import LiveServer, wait_until
from tests.pdf import samples
from tests.pdf.world import make_world

pytestmark = pytest.mark.live


@pytest.fixture
def behind_nginx(tmp_path):
    if nginx_binary() is None:
        service_unavailable("nginx", "not installed (scripts/setup --dev installs nginx-light)")
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
        data = tmp_path / "data"
        with LiveServer(data, url, env={"HEMICYCLE_ACCEL_REDIRECT": "/_pages/"}) as server:
            nginx, port = front(tmp_path / "nginx", data, [server.port])
            try:
                yield f"http://127.0.0.1:{port}", server, world, token, data
            finally:
                nginx.stop()
        db.session.remove()


def test_nginx_sends_clean_pages_from_the_cache_and_refuses_its_internal_location(behind_nginx):
    base, server, world, token, data = behind_nginx
    staff = {"Authorization": f"Bearer {token}"}
    reader = {"Authorization": f"Bearer {world.reader_token}"}
    uploaded = requests.post(f"{base}/api/v1/meetings/{world.meeting.id}/documents",
                             files={"file": ("Báo cáo.pdf", samples.vietnamese(3), "application/pdf")},
                             headers=staff, timeout=120)
    assert uploaded.status_code == 201, uploaded.text
    document = uploaded.json()["document"]
    sha = document["current_version"]["sha256"]
    page = f"/api/v1/documents/{document['id']}/versions/1/pages/2.jpg"
    wait_until(lambda: render.cache_path(data, sha, 2, "large", "jpg").exists(), 120, "page 2 rendered")
    cached = render.cache_path(data, sha, 2, "large", "jpg").read_bytes()

    # The worker itself answers headers only ...
    direct = requests.get(server.url + page, headers=reader, timeout=30)
    assert direct.status_code == 200 and direct.content == b""
    assert direct.headers["X-Accel-Redirect"] == f"/_pages/{sha[:2]}/{sha}/2-large.jpg"
    # ... and through nginx the tablet gets the bytes, with the worker's headers.
    through = requests.get(base + page, headers=reader, timeout=30)
    assert through.status_code == 200 and through.content == cached
    assert through.headers["Content-Type"] == "image/jpeg"
    assert through.headers["ETag"] == direct.headers["ETag"]
    assert through.headers["Cache-Control"] == "private, max-age=31536000, immutable"
    assert "X-Accel-Redirect" not in through.headers
    revalidated = requests.get(base + page, headers={**reader, "If-None-Match": through.headers["ETag"]},
                               timeout=30)
    assert revalidated.status_code == 304

    # The worker's check still decides: no token, no page.
    assert requests.get(base + page, timeout=30).status_code == 401
    # The internal location is not reachable by a client.
    internal = requests.get(f"{base}/_pages/{sha[:2]}/{sha}/2-large.jpg", timeout=30)
    assert internal.status_code == 404 and internal.content != cached


def test_watermarked_pages_come_from_the_worker_through_nginx(behind_nginx):
    base, server, world, token, data = behind_nginx
    staff = {"Authorization": f"Bearer {token}"}
    uploaded = requests.post(f"{base}/api/v1/meetings/{world.meeting.id}/documents",
                             files={"file": ("Mật.pdf", samples.vietnamese(2), "application/pdf")},
                             data={"confidential": "true"}, headers=staff, timeout=120)
    assert uploaded.status_code == 201, uploaded.text
    document = uploaded.json()["document"]
    sha = document["current_version"]["sha256"]
    page = f"/api/v1/documents/{document['id']}/versions/1/pages/1.jpg"
    direct = requests.get(server.url + page, headers={"Authorization": f"Bearer {world.reader_token}"},
                          timeout=30)
    assert "X-Accel-Redirect" not in direct.headers and direct.content[:3] == b"\xff\xd8\xff"
    marked = requests.get(base + page, headers={"Authorization": f"Bearer {world.reader_token}"},
                          timeout=30)
    assert marked.status_code == 200 and marked.content[:3] == b"\xff\xd8\xff"
    assert marked.content != render.cache_path(data, sha, 1, "large", "jpg").read_bytes()
    assert marked.headers["Cache-Control"] == "private, no-store" and "ETag" not in marked.headers
