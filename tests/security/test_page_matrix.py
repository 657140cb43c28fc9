"""Every server-rendered page and form against every kind of caller, from one table.

The same rules as the REST matrix (``test_authorisation_matrix.py``) for the
routes of ``app.url_map`` outside /api/: an allowed caller is served (never
401/403, never sent to the login page); a refused caller gets 401/403/404 or
the login page and changes nothing; a refused form post is audited. Forms
are sent valid, so validation cannot answer before authorisation.
"""
from __future__ import annotations

import io
import re

import pytest

from server.services import audit
from server.services.access import Permission as P
from tests import factories
from tests.security import snapshot as snap
from tests.security.test_authorisation_matrix import allowed_roles
from tests.security.world import ROLES, _pdf

# /metrics answers a bearer token, not a role: tests/realtime/test_metrics_live.py.
NOT_PAGES = ("/api/", "/static/", "/vendor/", "/healthz", "/tablet/", "/metrics")
MEETING_FORM = {"title": "Kỳ họp mới", "body": "HĐND tỉnh", "starts_at": "2030-01-01T08:00",
                "place": "Hội trường"}
FROM_FILE = object()  # marker: the form carries a fresh PDF as `file`

# "METHOD endpoint" -> (least permission or level, form or JSON body).
PAGE_RULES: dict[str, tuple] = {
    "GET home.index": ("public", None),
    "GET accounts.login": ("public", None),
    "POST accounts.login": ("public", "LOGIN"),
    "POST accounts.logout": ("public", None),
    "GET control.projector": ("public", None),  # the display token in the URL is the credential
    "GET archive.index": ("archivist", None),
    "GET archive.minutes_pdf": ("archivist", None),
    "GET archive.package": ("archivist", None),
    "GET archive.consultation_report": ("archivist", None),
    "GET archive.consultation_package": ("archivist", None),
    "GET meetings.index": ("user", None),
    "GET system.index": ("admin", None),
    "GET meetings.new": ("archivist", None),
    "POST meetings.new": ("archivist", MEETING_FORM),
    "GET meetings.overview": (P.PREPARE, None),
    "POST meetings.update": (P.PREPARE, MEETING_FORM),
    "POST meetings.delete": (P.PREPARE, {}),
    "POST meetings.publish": (P.PREPARE, {}),
    "GET meetings.agenda": (P.PREPARE, None),
    "POST meetings.add_agenda_item": (P.PREPARE, {"title": "Mục mới"}),
    "POST meetings.update_agenda_item": (P.PREPARE, {"title": "Mục sửa"}),
    "POST meetings.delete_agenda_item": (P.PREPARE, {}),
    "POST meetings.move_agenda_item": (P.PREPARE, {"position": "0"}),
    "GET meetings.participants_page": (P.PREPARE, None),
    "POST meetings.add_participant": (P.PREPARE, {"full_name": "Đại biểu", "role": "delegate"}),
    "GET meetings.edit_participant": (P.PREPARE, None),
    "POST meetings.edit_participant": (P.PREPARE, {"full_name": "Đại biểu", "role": "delegate"}),
    "POST meetings.remove_participant": (P.PREPARE, {}),
    "POST meetings.import_participants": (P.PREPARE, "CSV"),
    "GET documents.index": (P.PREPARE, None),
    "POST documents.upload": (P.PREPARE, FROM_FILE),
    "POST documents.new_version": (P.PREPARE, FROM_FILE),
    "POST documents.settings": (P.PREPARE, {"title": "Tài liệu", "access": "all"}),
    "POST documents.delete": (P.PREPARE, {}),
    "GET control.control_room": (P.RUN, None),
    "GET control.chair": (P.RUN, None),
    "GET control.device_list": (P.RUN, None),
    "POST control.announce": (P.RUN, {"json": {"text": "Nghỉ giải lao 15 phút"}}),
    "POST control.qr_code": (P.RUN, {"json": {"text": "https://hop.example/pair"}}),
    "POST control.pairing_sheet": (P.RUN, {"scope": "all"}),
    "GET minutes.page": (P.STAFF_VIEW, None),
    "GET minutes.pdf": (P.STAFF_VIEW, None),
    "POST minutes.act": (P.PREPARE, {"action": "draft"}),
    "POST minutes.open_token_session": ("signer", {}),  # the chair signs first
    "GET consultations.index": ("user", None),
    "GET consultations.page": ("consultation_seer", None),
    "GET consultations.report": ("consultation_seer", None),
    "GET consultations.new": ("archivist", None),
    "POST consultations.create": ("archivist", {
        "title": "Xin ý kiến", "question": "Đồng ý?", "closes_at": "2099-06-01T08:00",
        "majority": "absolute", "base": "members", "members": "1"}),
    "POST consultations.answer": ("consultation_member", {"choice": "yes"}),
    "POST consultations.extend": ("archivist", {"closes_at": "2099-06-01T08:00"}),
    "POST consultations.close": ("archivist", None),
    "POST consultations.remind": ("archivist", None),
    "GET drafts.index": (P.STAFF_VIEW, None),
    "POST drafts.open_draft": (P.PREPARE, {"document_id": "1", "deadline": "2099-01-01T08:00",
                                           "audience": "delegates"}),
    "GET drafts.compile_page": (P.STAFF_VIEW, None),
    "POST drafts.deadline": (P.PREPARE, {"deadline": "2099-01-01T08:00"}),
    "POST drafts.respond": (P.PREPARE, {"response": "accepted"}),
    "POST drafts.merge": (P.PREPARE, {"into": ""}),
    "POST drafts.publish": (P.PREPARE, {"published": "1"}),
    "GET comments.index": ("user", None),
    "GET comments.page": ("web_commenter", None),
    "POST comments.submit": ("web_commenter", {"comment_id": "6f1c2a9e-0000-4000-8000-000000000001",
                                               "page_number": "1", "kind": "agree"}),
}


def page_operations(app) -> dict:
    operations = {}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(NOT_PAGES):
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                operations[f"{method} {rule.endpoint}"] = rule
    return operations


def test_every_page_is_in_the_table(app):
    operations = page_operations(app)
    missing = sorted(set(operations) - set(PAGE_RULES))
    assert not missing, f"add these pages to PAGE_RULES in {__file__}: {missing}"
    stale = sorted(set(PAGE_RULES) - set(operations))
    assert not stale, f"PAGE_RULES names pages that no longer exist: {stale}"


def _request_kwargs(body, world) -> dict:
    if body is None:
        return {}
    if body == "LOGIN":
        return {"data": {"username": world.usernames["delegate"], "password": factories.PASSWORD}}
    if body is FROM_FILE:
        return {"data": {"file": (io.BytesIO(_pdf(1)), "moi.pdf")}, "content_type": "multipart/form-data"}
    if body == "CSV":
        csv = "full_name,role\nNguyễn Văn Nhập,delegate\n".encode()
        return {"data": {"file": (io.BytesIO(csv), "ds.csv")}, "content_type": "multipart/form-data"}
    if "json" in body:
        return {"json": body["json"]}
    return {"data": dict(body)}


def _to_login(response) -> bool:
    return response.status_code in (301, 302, 303) and "/login" in response.headers.get("Location", "")


@pytest.mark.parametrize("operation", sorted(PAGE_RULES))
def test_only_the_allowed_roles_get_the_page(world_app, roles, operation):
    app, world = world_app
    rule = page_operations(app).get(operation)
    if rule is None:
        pytest.fail(f"{operation} is in PAGE_RULES but not in the app")
    method = operation.split()[0]
    level, body = PAGE_RULES[operation]
    allowed = allowed_roles(level)
    values = {**world.ids, "token": world.tokens["projector"]}
    url = re.sub(r"<(?:(\w+):)?(\w+)>", lambda m: str(values[m.group(2)]), rule.rule)
    problems = []
    before = snap.snapshot()
    for role in [r for r in ROLES if r not in allowed]:
        refusals = len(snap.refusals())
        response = roles.request(role, method, url, headers={"Accept": "text/html"},
                                 **_request_kwargs(body, world))
        if response.status_code not in (401, 403, 404) and not _to_login(response):
            problems.append(f"{role} (refused) got {response.status_code}")
            continue
        changed = snap.changes(before, snap.snapshot())
        if changed:
            problems.append(f"{role} (refused) changed {changed}")
            before = snap.snapshot()
        if method == "POST" and not _to_login(response) and len(snap.refusals()) <= refusals:
            problems.append(f"{role} (refused, {response.status_code}) was not audited")
    for role in sorted(allowed):
        response = roles.request(role, method, url, headers={"Accept": "text/html"},
                                 **_request_kwargs(body, world))
        if response.status_code in (401, 403) or response.status_code >= 500 or (
                _to_login(response) and operation not in ("POST accounts.logout", "GET home.index")):
            problems.append(f"{role} (allowed) got {response.status_code} "
                            f"{response.headers.get('Location', '')}")
    assert not problems, f"{operation}:\n  " + "\n  ".join(problems)
    assert audit.verify().ok
