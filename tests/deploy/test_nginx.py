"""The documented nginx configuration (docs/DEPLOYMENT.md) in front of a real `hemicycle serve`:
page images sent by nginx from the page cache after the worker's check."""
from __future__ import annotations

import re

import pytest
import requests

from bench.nginx import PAGE_LINK_SECRET, binary as nginx_binary, front
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
        with LiveServer(data, url, env={"HEMICYCLE_ACCEL_REDIRECT": "/_pages/",
                                        "HEMICYCLE_PAGE_LINK_SECRET": PAGE_LINK_SECRET,
                                        "HEMICYCLE_PAGE_LINK_SECONDS": "6"}) as server:
            nginx, port = front(tmp_path / "nginx", data, [server.port])
            try:
                yield f"http://127.0.0.1:{port}", server, world, token, data
            finally:
                nginx.stop()
        db.session.remove()


def test_nginx_sends_clean_pages_from_the_cache_after_the_workers_answer(behind_nginx):
    base, server, world, token, data = behind_nginx
    staff = {"Authorization": f"Bearer {token}"}
    reader = {"Authorization": f"Bearer {world.reader_token}"}
    uploaded = requests.post(f"{base}/api/v1/meetings/{world.meeting.id}/documents",
                             files={"file": ("Báo cáo.pdf", samples.vietnamese(3), "application/pdf")},
                             headers=staff, timeout=120)
    assert uploaded.status_code == 201, uploaded.text
    document = uploaded.json()["document"]
    sha = document["current_version"]["sha256"]
    version = f"/api/v1/documents/{document['id']}/versions/1"
    page = f"{version}/pages/2.jpg"
    wait_until(lambda: render.cache_path(data, sha, 2, "large", "jpg").exists(), 120, "page 2 rendered")
    cached = render.cache_path(data, sha, 2, "large", "jpg").read_bytes()

    # The worker answers whether this caller may have the version's files, and where they are.
    access = requests.get(f"{server.url}{version}/pages/access", headers=reader, timeout=30)
    assert access.status_code == 204
    assert access.headers["X-Hemicycle-Pages"] == f"{sha[:2]}/{sha}"
    assert access.headers["X-Hemicycle-Cache-Control"] == "private, max-age=31536000, immutable"
    # nginx sends the file itself: its own ETag (size and time), not the worker's.
    direct = requests.get(server.url + page, headers=reader, timeout=30)
    through = requests.get(base + page, headers=reader, timeout=30)
    assert through.status_code == 200 and through.content == cached
    assert through.headers["Content-Type"] == "image/jpeg"
    assert through.headers["Cache-Control"] == "private, max-age=31536000, immutable"
    assert re.fullmatch(r'"[0-9a-f]+-[0-9a-f]+"', through.headers["ETag"])
    assert through.headers["ETag"] != direct.headers["ETag"]
    assert "X-Hemicycle-Pages" not in through.headers and "X-Accel-Redirect" not in through.headers
    revalidated = requests.get(base + page, headers={**reader, "If-None-Match": through.headers["ETag"]},
                               timeout=30)
    assert revalidated.status_code == 304  # answered from nginx's copy of the worker's answer
    assert [entry for entry in (data / "nginx-rights").rglob("*") if entry.is_file()]
    thumb = requests.get(base + page + "?size=thumb", headers=reader, timeout=30)
    assert thumb.status_code == 200 and thumb.content[:3] == b"\xff\xd8\xff" and thumb.content != cached

    # A page the cache does not hold, or an odd size, is the worker's: rendered, or refused.
    missing = requests.get(f"{base}{version}/pages/99.jpg", headers=reader, timeout=30)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    odd = requests.get(base + page + "?size=huge", headers=reader, timeout=30)
    assert odd.status_code == 422 and odd.json()["error"]["code"] == "invalid_input"

    # The worker's check still decides, with its structured refusals: no token, no page; a
    # stranger's token, not found; the proxy's internal locations are not reachable.
    anonymous = requests.get(base + page, timeout=30)
    assert anonymous.status_code == 401 and anonymous.json()["error"]["code"] == "not_authenticated"
    stranger = requests.get(base + page, headers={"Authorization": "Bearer not-a-token"}, timeout=30)
    assert stranger.status_code == 401 and stranger.content != cached
    for internal in (f"/_pages/{sha[:2]}/{sha}/2-large.jpg", "/_page_access"):
        answer = requests.get(base + internal, headers=reader, timeout=30)
        assert answer.status_code == 404 and answer.content != cached

    # A revoked tablet loses the files within the few seconds nginx keeps the worker's answer.
    listed = requests.get(f"{base}/api/v1/meetings/{world.meeting.id}/devices", headers=staff,
                          timeout=30).json()
    [device] = [d for d in listed if d["participant_id"] == world.reader.id]
    revoked = requests.delete(f"{base}/api/v1/devices/{device['device_id']}", headers=staff, timeout=30)
    assert revoked.status_code == 204, revoked.text
    wait_until(lambda: requests.get(base + page, headers=reader, timeout=30).status_code == 401,
               15, "revoked tablet refused by nginx")


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
    access = requests.get(f"{server.url}/api/v1/documents/{document['id']}/versions/1/pages/access",
                          headers={"Authorization": f"Bearer {world.reader_token}"}, timeout=30)
    assert access.status_code == 204 and "X-Hemicycle-Pages" not in access.headers
    marked = requests.get(base + page, headers={"Authorization": f"Bearer {world.reader_token}"},
                          timeout=30)
    assert marked.status_code == 200 and marked.content[:3] == b"\xff\xd8\xff"
    assert marked.content != render.cache_path(data, sha, 1, "large", "jpg").read_bytes()
    assert marked.headers["Cache-Control"] == "private, no-store" and "ETag" not in marked.headers


def test_a_page_link_is_checked_by_nginx_alone_until_it_expires(behind_nginx):
    base, server, world, token, data = behind_nginx
    staff = {"Authorization": f"Bearer {token}"}
    reader = {"Authorization": f"Bearer {world.reader_token}"}
    uploaded = requests.post(f"{base}/api/v1/meetings/{world.meeting.id}/documents",
                             files={"file": ("Tờ trình.pdf", samples.vietnamese(3), "application/pdf")},
                             headers=staff, timeout=120)
    assert uploaded.status_code == 201, uploaded.text
    document = uploaded.json()["document"]
    sha = document["current_version"]["sha256"]
    version = f"/api/v1/documents/{document['id']}/versions/1"
    wait_until(lambda: render.cache_path(data, sha, 3, "thumb", "jpg").exists(), 120, "pages rendered")
    cached = render.cache_path(data, sha, 2, "large", "jpg").read_bytes()

    # The tablet asks once for the version's link (through nginx, like any API call).
    access = requests.get(f"{base}{version}/pages/access", headers=reader, timeout=30)
    assert access.status_code == 204
    link = access.headers["X-Hemicycle-Page-Link"]
    assert re.fullmatch(rf"pf={sha[:2]}/{sha}&pe=\d+&pl=[A-Za-z0-9_-]{{22}}", link), link
    page = f"{base}{version}/pages/2.jpg?size=large&{link}"
    linked = requests.get(page, timeout=30)  # no token: nginx checks the link alone
    assert linked.status_code == 200 and linked.content == cached
    assert linked.headers["Cache-Control"] == "private, max-age=31536000, immutable"
    thumb = requests.get(f"{base}{version}/pages/2.jpg?size=thumb&{link}", timeout=30)
    assert thumb.status_code == 200 and thumb.content == render.cache_path(
        data, sha, 2, "thumb", "jpg").read_bytes()

    # A link for another version's folder, another page set, a changed signature or expiry:
    # not the file, the ordinary way (no token: the worker's 401).
    other = link.replace(f"pf={sha[:2]}/{sha}", f"pf={sha[:2]}/{'0' * 64}")
    forged_expiry = re.sub(r"pe=(\d+)", lambda m: f"pe={int(m.group(1)) + 3600}", link)
    forged_sig = re.sub(r"pl=.", "pl=A" if "pl=A" not in link else "pl=B", link)
    other_document = f"{base}/api/v1/documents/{document['id'] + 1}/versions/1/pages/2.jpg?{link}"
    for url in (f"{base}{version}/pages/2.jpg?{other}", f"{base}{version}/pages/2.jpg?{forged_expiry}",
                f"{base}{version}/pages/2.jpg?{forged_sig}", other_document):
        answer = requests.get(url, timeout=30)
        assert answer.status_code == 401, (url, answer.status_code)
        assert answer.json()["error"]["code"] == "not_authenticated"
    # A page not in the cache goes to the worker, which still checks the caller.
    missing = requests.get(f"{base}{version}/pages/99.jpg?{link}", headers=reader, timeout=30)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    odd = requests.get(f"{base}{version}/pages/2.jpg?size=huge&{link}", headers=reader, timeout=30)
    assert odd.status_code == 422
    assert requests.get(f"{base}/_linked_pages/{sha[:2]}/{sha}/2-large.jpg", timeout=30).status_code == 404

    # The link expires (6 s here, 30 by default): then only the ordinary way, with the token.
    wait_until(lambda: requests.get(page, timeout=30).status_code == 401, 20, "link expired")
    assert requests.get(page, headers=reader, timeout=30).content == cached


def test_confidential_versions_get_no_page_link(behind_nginx):
    base, server, world, token, data = behind_nginx
    uploaded = requests.post(f"{base}/api/v1/meetings/{world.meeting.id}/documents",
                             files={"file": ("Mật.pdf", samples.vietnamese(1), "application/pdf")},
                             data={"confidential": "true"},
                             headers={"Authorization": f"Bearer {token}"}, timeout=120)
    assert uploaded.status_code == 201, uploaded.text
    access_url = f"{base}/api/v1/documents/{uploaded.json()['document']['id']}/versions/1/pages/access"
    for caller in (token, world.reader_token):  # staff (clean pages) and the reader (marked)
        access = requests.get(access_url, headers={"Authorization": f"Bearer {caller}"}, timeout=30)
        assert access.status_code == 204 and "X-Hemicycle-Page-Link" not in access.headers
