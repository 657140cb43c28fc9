"""A confidential document addressed to one delegate: who gets what, over every document route.

The seeded world holds a confidential document addressed (access "named") to
the participant of the "tablet" role only. Staff read it in full; its reader
gets watermarked page images (and an annotated copy rebuilt from them), never
the PDF, the text or a clean image; every other caller gets 401/404, so it
cannot even learn that the document exists. Every GET route that takes a
``document_id`` must be in ``CONFIDENTIAL`` (a new one fails the first test).
"""
from __future__ import annotations

import pymupdf
import pytest

from tests.security.test_authorisation_matrix import build_url, Rule
from tests.security.world import ROLES, SECRET_TEXT

STAFF = {"admin", "secretary", "chair"}
# GET endpoint -> roles that may read the confidential document through it.
CONFIDENTIAL: dict[str, set[str]] = {
    "api.get_document": STAFF | {"tablet"},
    "api.document_pdf": STAFF,
    "api.page_image": STAFF | {"tablet"},
    "api.page_text": STAFF,
    # nginx's question before it sends cached files (docs/DEPLOYMENT.md): 204 to readers, and
    # never the page cache's folder to the confidential document's reader (second test below)
    "api.page_access": STAFF | {"tablet"},
    "api.list_annotations": STAFF | {"tablet"},  # staff accounts: an empty list
    # Comments of earlier versions, as that version's readers see them (no quotes are read
    # from a confidential document): here an empty list.
    "api.list_carried_comments": STAFF | {"tablet"},
    "api.annotated_pdf": {"chair", "tablet"},  # participants only; the tablet's is rasterised
}


def document_routes(app):
    return {rule.endpoint: rule for rule in app.url_map.iter_rules()
            if "GET" in rule.methods and "<int:document_id>" in rule.rule}


def test_every_document_route_is_in_the_table(app):
    missing = sorted(set(document_routes(app)) - set(CONFIDENTIAL))
    assert not missing, f"add these routes to CONFIDENTIAL in {__file__}: {missing}"


@pytest.mark.parametrize("endpoint", sorted(CONFIDENTIAL))
def test_only_staff_and_the_named_reader_get_it_in_their_form(world_app, roles, endpoint):
    app, world = world_app
    rule = document_routes(app)[endpoint]
    url = build_url(rule, Rule("public", params={"document_id": world.ids["confidential_document_id"]}),
                    world)
    problems = []
    for role in ROLES:
        response = roles.request(role, "GET", url)
        if role in CONFIDENTIAL[endpoint]:
            if response.status_code != (204 if endpoint == "api.page_access" else 200):
                problems.append(f"{role} (allowed) got {response.status_code}")
                continue
            if role == "tablet":
                assert "no-store" in response.headers.get("Cache-Control", "") \
                    or endpoint in ("api.get_document", "api.list_annotations",
                                    "api.list_carried_comments", "api.page_access"), \
                    f"a watermarked answer may be cached: {response.headers.get('Cache-Control')}"
                if response.mimetype == "application/pdf":
                    with pymupdf.open("pdf", response.data) as doc:
                        text = "".join(page.get_text() for page in doc)
                    if SECRET_TEXT in text:
                        problems.append(f"{role} got the confidential text through {endpoint}")
        elif response.status_code not in (401, 403, 404):
            problems.append(f"{role} (refused) got {response.status_code}")
    assert not problems, "\n".join(problems)


def test_the_reader_sees_a_watermarked_image_not_the_clean_one(world_app, roles):
    _app, world = world_app
    url = (f"/api/v1/documents/{world.ids['confidential_document_id']}/versions/1/pages/1.png")
    clean = roles.request("secretary", "GET", url)
    marked = roles.request("tablet", "GET", url)
    assert clean.status_code == marked.status_code == 200
    assert clean.data != marked.data, "the reader got the clean page image"
    assert "no-store" in marked.headers["Cache-Control"]


def test_the_proxy_is_never_told_to_send_the_reader_the_clean_files(world_app, roles):
    _app, world = world_app
    url = f"/api/v1/documents/{world.ids['confidential_document_id']}/versions/1/pages/access"
    staff = roles.request("secretary", "GET", url)
    reader = roles.request("tablet", "GET", url)
    assert staff.status_code == reader.status_code == 204
    assert staff.headers.get("X-Hemicycle-Pages"), "staff read the clean pages from the cache"
    assert "X-Hemicycle-Pages" not in reader.headers, "nginx would send the reader clean pages"
