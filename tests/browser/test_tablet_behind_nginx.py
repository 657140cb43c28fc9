"""The tablet behind the documented nginx (docs/DEPLOYMENT.md) with page links: it asks once
per version for the link, nginx sends the page images from the page cache with no question
to a worker, and the pages read the same; a confidential document's pages never use one."""
from __future__ import annotations

import pytest

from bench.nginx import PAGE_LINK_SECRET, binary as nginx_binary, front
from server import create_app
from server.extensions import db
from tests.browser.conftest import LiveApp, create_schema
from tests.browser.test_tablet import Staff, open_tablet, pair_tablet, script_errors, seed_world
from tests.conftest import service_unavailable, test_config as make_config
from tests.live import LiveServer

pytestmark = pytest.mark.browser


class BehindNginx(LiveApp):
    def __init__(self, server: LiveServer, app, url: str):
        super().__init__(server, app)
        self._url = url

    @property
    def url(self) -> str:
        return self._url


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    if nginx_binary() is None:
        service_unavailable("nginx", "not installed (scripts/setup --dev installs nginx-light)")
    tmp_path = tmp_path_factory.mktemp("nginx-tablet")
    database_url = f"sqlite:///{tmp_path / 'live.db'}"
    app = create_app(make_config(tmp_path, DATABASE_URL=database_url))
    with app.app_context():
        create_schema(database_url)
        env = {"HEMICYCLE_ACCEL_REDIRECT": "/_pages/", "HEMICYCLE_PAGE_LINK_SECRET": PAGE_LINK_SECRET}
        with LiveServer(tmp_path / "data", database_url, env=env) as server:
            nginx, port = front(tmp_path / "nginx", tmp_path / "data", [server.port])
            try:
                yield BehindNginx(server, app, f"http://127.0.0.1:{port}")
            finally:
                nginx.stop()
        db.session.remove()


def open_document(tablet, document) -> None:
    tablet.click("#tabs a[data-view=docs]")
    tablet.click(f"[data-doc-id='{document.id}'] .doc-link")
    tablet.wait_for_selector(".sheet[data-loaded='1']")


def test_the_tablet_reads_pages_through_page_links(browser, live_server):
    world = seed_world(live_server)
    staff = Staff(live_server.url, world.secretary, world.meeting.id)
    context, tablet = open_tablet(browser, live_server.url)
    answers = []
    tablet.on("response", lambda r: answers.append((r.url, r.status)) if "/pages/" in r.url else None)
    try:
        pair_tablet(tablet, staff, world.alice)
        open_document(tablet, world.public)
        tablet.wait_for_function("document.querySelectorAll('.sheet img').length > 0"
                                 " && [...document.querySelectorAll('.sheet img')]"
                                 ".every(i => i.complete && i.naturalWidth > 0)")
        public = f"/api/v1/documents/{world.public.id}/versions/1/pages/"
        asked = [url for url, status in answers if url.endswith(public + "access") and status == 204]
        linked = [(url, status) for url, status in answers if public in url and "&pl=" in url]
        assert len(asked) == 1, answers  # once for the version, not once per page
        assert linked and all(status == 200 for _url, status in linked), answers

        open_document(tablet, world.secret)  # confidential: watermarked for her, no links
        secret = f"/api/v1/documents/{world.secret.id}/versions/1/pages/"
        tablet.wait_for_function("[...document.querySelectorAll('.sheet img')]"
                                 ".some(i => i.complete && i.naturalWidth > 0)")
        fetched = [url for url, status in answers if secret in url and status == 200]
        assert fetched and not [url for url in fetched if "pl=" in url or url.endswith("access")]
        assert script_errors(tablet) == []
    finally:
        context.close()
        staff.close()
