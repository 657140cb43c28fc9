"""What a page image request costs in SQL, and that the cheap path keeps every guarantee.

A tablet's page request is the hottest route of a document push (every tablet fetches
page 1 at once): its token, device and participant, the document, its version and meeting,
and whether the participant is a named reader come from one statement
(``document_access.reading_for_token``). The budgets below fail if a change adds a
statement; raise them only with a reason (docs/PERFORMANCE.md, "Page serving, second pass").
"""
from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import event, select

from server.extensions import db
from server.models import Device, Meeting, utcnow
from server.services.tokens import new_token, token_digest
from tests import factories
from tests.pdf import samples
from tests.pdf.world import make_world, post_file

TABLET_BUDGET = 1  # token → device → participant, document → version → meeting, reader
STAFF_BUDGET = 4  # user, login session, document with version and meeting, participant_of


@pytest.fixture
def world(app, auth, secretary):
    app.config["DOCUMENT_RENDER_INLINE"] = True
    world = make_world(secretary)
    auth.login(secretary)
    return world


@contextmanager
def statements():
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def upload(client, world, **fields) -> int:
    response = post_file(client, f"/api/v1/meetings/{world.meeting.id}/documents",
                         samples.vietnamese(2), **fields)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["document"]["id"]


def page(document_id: int, ext: str = "jpg", number: int = 1, page_number: int = 1) -> str:
    return f"/api/v1/documents/{document_id}/versions/{number}/pages/{page_number}.{ext}"


def bearer(token: str, **headers) -> dict:
    return {"Authorization": f"Bearer {token}", **headers}


def measured(client, url, headers=None):
    client.get(url, headers=headers or {})  # warm: compiled statements, translations
    with statements() as seen:
        response = client.get(url, headers=headers or {})
    return response, seen


def test_a_tablet_page_request_costs_one_statement(client, world):
    clean = upload(client, world)
    named = upload(client, world, access="named", readers=str(world.reader.id))
    confidential = upload(client, world, confidential="true")
    reader, other = bearer(world.reader_token), bearer(world.other_token)
    first, _ = measured(client, page(clean), reader)
    etag = first.headers["ETag"]
    cases = [
        ("clean page", page(clean), reader, 200),
        ("not modified", page(clean), bearer(world.reader_token, **{"If-None-Match": etag}), 304),
        ("named reader", page(named), reader, 200),
        ("not a named reader", page(named), other, 404),
        ("watermarked", page(confidential, "png"), reader, 200),
        ("no such document", page(clean + 100), reader, 404),
        ("no such version", page(clean, number=2), reader, 404),
        ("no such page", page(clean, page_number=3), reader, 404),
        ("unknown token", page(clean), bearer(new_token()), 401),
    ]
    for name, url, headers, status in cases:
        response, seen = measured(client, url, headers)
        assert response.status_code == status, name
        assert len(seen) <= TABLET_BUDGET, (name, seen)


def test_an_impossible_token_is_not_looked_up(client, world):
    clean = upload(client, world)
    response, seen = measured(client, page(clean), bearer("x" * 201))
    assert response.status_code == 401 and seen == []


def test_a_staff_page_request_stays_within_its_budget(client, world):
    clean = upload(client, world)
    response, seen = measured(client, page(clean))  # the secretary's session cookie
    assert response.status_code == 200
    assert len(seen) <= STAFF_BUDGET, seen


def test_a_revoked_tablet_is_refused_at_once(client, world):
    clean = upload(client, world)
    assert client.get(page(clean), headers=bearer(world.reader_token)).status_code == 200
    device = db.session.scalar(select(Device).where(
        Device.token_sha256 == token_digest(world.reader_token)))
    device.revoked_at = utcnow()
    db.session.commit()
    assert client.get(page(clean), headers=bearer(world.reader_token)).status_code == 401


def test_a_tablet_of_another_meeting_gets_404(client, world):
    clean = upload(client, world)
    elsewhere = factories.make_meeting(status=world.meeting.status)
    stranger = factories.make_participant(elsewhere)
    token = new_token()
    db.session.add(Device(meeting_id=elsewhere.id, participant_id=stranger.id,
                          token_sha256=token_digest(token)))
    db.session.commit()
    assert client.get(page(clean), headers=bearer(token)).status_code == 404


def test_the_projector_sees_the_presented_version_only(client, world):
    clean = upload(client, world)
    projector = bearer(world.projector_token)
    response, seen = measured(client, page(clean), projector)
    assert response.status_code == 404 and len(seen) <= TABLET_BUDGET
    version_id = client.get(f"/api/v1/documents/{clean}").get_json()["current_version"]["id"]
    assert client.post(f"/api/v1/meetings/{world.meeting.id}/present",
                       json={"version_id": version_id, "page": 1}).status_code == 200
    response, seen = measured(client, page(clean), projector)
    assert response.status_code == 200 and len(seen) <= TABLET_BUDGET
    assert db.session.get(Meeting, world.meeting.id).presented_version_id == version_id


def test_the_connection_is_released_before_a_watermark_is_stamped(client, world, monkeypatch):
    """Stamping runs in a thread pool under eventlet: other requests run meanwhile, and must
    not find the connection pool emptied by tablets waiting for their watermarks."""
    from server.pdf import watermark

    confidential = upload(client, world, confidential="true")
    holding = []
    stamp = watermark.offload

    def offload(function, *args):
        holding.append((db.session().in_transaction(), db.engine.pool.checkedout()))
        return stamp(function, *args)

    monkeypatch.setattr(watermark, "offload", offload)
    response = client.get(page(confidential, "png"), headers=bearer(world.reader_token))
    assert response.status_code == 200 and response.headers["Cache-Control"] == "private, no-store"
    assert holding == [(False, 0)]
