"""Every REST endpoint against every kind of caller, from one table.

``RULES`` says, for each endpoint of ``app.url_map`` under /api/, the least a
caller needs: a meeting permission (services/access.Permission) or one of the
levels below. The test builds the allowed set of each role from ``ROLE_GRANTS``
(written here by hand, not computed by the code under test), calls the
endpoint with real path parameters from the seeded world, and checks:

* an allowed caller is never answered 401/403 (nor "No such meeting.");
* a refused caller gets 401, 403 or 404, changes no row and appends nothing to
  the audit chain but refusals; a refused change is itself audited.

A new endpoint that is not in ``RULES`` fails ``test_every_endpoint_is_in_the_table``:
add it to the table.
"""
from __future__ import annotations

import io
import re
import uuid
from dataclasses import dataclass, field

import pytest

from server.services import audit
from server.services.access import Permission as P
from tests import factories
from tests.security import snapshot as snap
from tests.security.world import ACCOUNT_ROLES, ROLES, _pdf

ROLE_GRANTS: dict[str, set[P]] = {
    "admin": {P.VIEW, P.WATCH, P.PREPARE, P.RUN, P.CHAIR, P.STAFF_VIEW},
    "secretary": {P.VIEW, P.WATCH, P.PREPARE, P.RUN, P.CHAIR, P.STAFF_VIEW},
    "chair": {P.VIEW, P.WATCH, P.RUN, P.CHAIR, P.SPEAK, P.STAFF_VIEW, P.VOTE},
    "delegate": {P.VIEW, P.WATCH, P.SPEAK, P.VOTE},
    "observer": {P.VIEW, P.WATCH},
    "tablet": {P.VIEW, P.WATCH, P.SPEAK, P.VOTE},
    "projector": {P.WATCH},
    "stranger": set(),  # a paired tablet of another meeting
    "anonymous": set(),
}
LEVELS: dict[str, set[str]] = {
    "public": set(ROLES),
    "user": set(ACCOUNT_ROLES),  # any logged-in account, not a device
    # Any account or device: a device lists (only) its own meeting.
    "authenticated": set(ROLES) - {"anonymous"},
    "admin": {"admin"},
    "archivist": {"admin", "secretary"},  # admin and secretary accounts
    "self": {"admin", "delegate"},  # /users/<id> of the delegate's account
    "device": {"tablet"},  # a paired tablet of the meeting
    "reader": {"chair", "delegate", "observer", "tablet"},  # participants who read the document
    "owner": {"delegate"},  # the seeded annotation is the delegate's
    "signer": {"chair"},  # the chair signs first; staff accounts are not signers
    # The seeded draft is open to the members (chair, delegates): staff see it, the observer not.
    "consulted": {"admin", "secretary", "chair", "delegate", "tablet"},
    "commenter": {"chair", "delegate", "tablet"},  # staff accounts are not in the audience
    "web_commenter": {"chair", "delegate"},
    # The seeded written consultation asks the chair and the delegate (accounts).
    "consultation_seer": {"admin", "secretary", "chair", "delegate"},
    "consultation_member": {"chair", "delegate"},
    "member": {"chair", "delegate", "tablet"},  # members of the meeting table amendments
    "mover": {"delegate"},  # the seeded amendment is the delegate's
}
MUTATING = {"POST", "PUT", "PATCH", "DELETE"}


def allowed_roles(level) -> set[str]:
    if isinstance(level, P):
        return {role for role, grants in ROLE_GRANTS.items() if level in grants}
    return LEVELS[level]


@dataclass(frozen=True)
class Rule:
    level: P | str
    json: object = None  # a valid body, so validation never answers before authorisation
    form: object = None  # callable(world) -> multipart dict
    data: bytes | None = None
    content_type: str | None = None
    query: dict = field(default_factory=dict)
    poll: str = "open"  # which seeded poll {poll_id} names
    params: dict = field(default_factory=dict)


def _pdf_form(_world):
    return {"file": (io.BytesIO(_pdf(1, "Tài liệu mới")), "moi.pdf")}


def _cert_form(_world):
    return {"file": (io.BytesIO(b"not a certificate"), "me.p12"), "passphrase": "x"}


NEW_MEETING = {"title": "Họp mới", "body": "HĐND", "starts_at": "2030-01-01T08:00:00+07:00"}
LATER = "2099-01-01T08:00:00+07:00"
COMMENT = {"comment_period_id": 1, "page_number": 1, "kind": "agree"}
ANNOTATION = {"version_id": 1, "page_number": 1, "kind": "ink",
              "data": {"points": [[0.2, 0.2], [0.3, 0.3]]}}

# ONE table: "METHOD endpoint" -> who may call it.
RULES: dict[str, Rule] = {
    "GET openapi_document": Rule("public"),
    "POST api.login": Rule("public", json="LOGIN"),
    "POST api.logout": Rule("public"),
    "POST api.pair": Rule("public", json={"code": "x" * 24}),
    "GET api.me": Rule("user"),
    "PATCH api.update_me": Rule("user", json={"locale": "en"}),
    "GET api.list_users": Rule("admin"),
    "POST api.create_user": Rule("admin", json={"username": "moi", "full_name": "Người Mới",
                                                "role": "delegate"}),
    "GET api.get_user": Rule("self"),
    "PATCH api.update_user": Rule("self", json={"full_name": "Tên Mới"}),
    "GET api.my_certificates": Rule("user"),
    "POST api.upload_certificate": Rule("user", form=_cert_form),
    "GET api.list_sealed_meetings": Rule("archivist"),
    "GET api.download_package": Rule("archivist"),
    "GET api.search_archive": Rule("archivist", query={"q": "ngân sách"}),
    "GET api.list_meetings": Rule("authenticated"),
    "POST api.create_meeting": Rule("archivist", json=NEW_MEETING),
    "GET api.get_meeting_view": Rule(P.VIEW),
    "PATCH api.update_meeting": Rule(P.PREPARE, json={"title": "Tiêu đề mới"}),
    "DELETE api.delete_meeting": Rule(P.PREPARE),
    "GET api.publish_check": Rule(P.PREPARE),
    "POST api.publish_meeting": Rule(P.PREPARE),
    "GET api.get_agenda": Rule(P.VIEW),
    "POST api.add_agenda_item": Rule(P.PREPARE, json={"title": "Mục mới"}),
    "PUT api.reorder_agenda": Rule(P.PREPARE, json="REORDER"),
    "PATCH api.update_agenda_item": Rule(P.PREPARE, json={"title": "Mục sửa"}),
    "DELETE api.delete_agenda_item": Rule(P.PREPARE),
    "POST api.move_agenda_item": Rule(P.PREPARE, json={"position": 0}),
    "GET api.list_participants": Rule(P.STAFF_VIEW),
    "POST api.add_participant": Rule(P.PREPARE, json={"full_name": "Đại biểu mới",
                                                      "role": "delegate"}),
    "PATCH api.update_participant": Rule(P.PREPARE, json={"seat": "A9"}),
    "DELETE api.remove_participant": Rule(P.PREPARE),
    "POST api.import_participants": Rule(
        P.PREPARE, data="full_name,role\nNguyễn Văn Nhập,delegate\n".encode(),
        content_type="text/csv"),
    "POST api.create_pairing_code": Rule(P.RUN),
    "GET api.list_devices": Rule(P.RUN),
    "DELETE api.revoke_device": Rule(P.RUN),
    "POST api.wipe_device": Rule(P.RUN),
    "POST api.create_projector": Rule(P.RUN, json={"label": "Máy chiếu 2"}),
    "POST api.create_door_token": Rule(P.RUN),
    "POST api.check_in": Rule("device", json={"door_token": "not-the-door-code"}),
    "GET api.live_state": Rule(P.WATCH),
    "GET api.list_documents": Rule(P.VIEW),
    "GET api.search_meeting_documents": Rule(P.VIEW, query={"q": "nghị quyết"}),
    "POST api.upload_document": Rule(P.PREPARE, form=_pdf_form),
    "GET api.get_document": Rule(P.VIEW),
    "PATCH api.update_document": Rule(P.PREPARE, json={"title": "Tài liệu sửa"}),
    "DELETE api.delete_document": Rule(P.PREPARE),
    "POST api.add_version": Rule(P.PREPARE, form=_pdf_form),
    "GET api.document_pdf": Rule(P.VIEW),
    "GET api.page_image": Rule(P.VIEW),
    "GET api.page_access": Rule(P.VIEW),
    "GET api.page_text": Rule(P.VIEW),
    # Staff accounts are not readers with annotations of their own: they get an empty list.
    "GET api.list_annotations": Rule(P.VIEW),
    "GET api.annotated_pdf": Rule("reader"),
    "PUT api.save_annotation": Rule("reader", json=ANNOTATION, params={"annotation_id": "NEW"}),
    "DELETE api.delete_annotation": Rule("owner"),
    "POST api.present": Rule(P.RUN, json="PRESENT"),
    "POST api.push": Rule(P.RUN, json="PUSH"),
    "GET api.get_minutes": Rule(P.STAFF_VIEW),
    "GET api.minutes_pdf": Rule(P.STAFF_VIEW),
    "POST api.draft_minutes": Rule(P.PREPARE, json={}),
    "PATCH api.edit_minutes": Rule(P.PREPARE, json={"free_text": "Ghi chú"}),
    "POST api.finalise_minutes": Rule(P.PREPARE),
    "POST api.sign_minutes": Rule("signer", json={"passphrase": "sai mật khẩu"}),
    "GET api.list_consultations": Rule("authenticated"),
    "POST api.create_consultation": Rule("archivist", json={
        "title": "Xin ý kiến", "question": "Đồng ý?", "closes_at": LATER,
        "members": [{"user_id": 1}]}),
    "GET api.get_consultation": Rule("consultation_seer"),
    "PUT api.answer_consultation": Rule("consultation_member", json={"choice": "yes"}),
    "POST api.extend_consultation": Rule("archivist", json={"closes_at": LATER}),
    "POST api.close_consultation": Rule("archivist"),
    "POST api.remind_consultation": Rule("archivist"),
    "GET api.consultation_report": Rule("consultation_seer"),
    "GET api.consultation_archive_package": Rule("archivist"),
    "GET api.list_comment_periods": Rule(P.VIEW),
    "POST api.open_comment_period": Rule(P.PREPARE, json={"deadline": LATER}),
    "GET api.get_comment_period": Rule("consulted"),
    "PATCH api.update_comment_period": Rule(P.PREPARE, json={"deadline": LATER}),
    "POST api.open_signing_session": Rule("signer"),
    # The one-time code is the capability (the signer's agent has no login): anyone may ask,
    # an unknown code is not found.
    "GET api.get_signing_session": Rule("public", params={"code": "x" * 32}),
    "POST api.present_session_certificate": Rule("public", json={"certificate_chain": "x"},
                                                 params={"code": "x" * 32}),
    "POST api.finish_signing_session": Rule("public", json={"signature_value": "AAAA"},
                                            params={"code": "x" * 32}),
    "POST api.register_token_certificate": Rule("user", json={"certificate_chain": "x"}),
    "GET api.list_comments": Rule("consulted"),
    # Any reader of the document; each sees only the comments they may see (often none).
    "GET api.list_carried_comments": Rule(P.VIEW),
    "PUT api.save_comment": Rule("commenter", json=COMMENT, params={"comment_id": "NEW"}),
    "POST api.publish_comment": Rule(P.PREPARE, json={"published": True}),
    "POST api.merge_comment": Rule(P.PREPARE, json={"into": None}),
    "POST api.respond_to_comment": Rule(P.PREPARE, json={"response": "accepted"}),
    "GET api.report_pdf_file": Rule(P.STAFF_VIEW),
    "GET api.report_xlsx_file": Rule(P.STAFF_VIEW),
    "GET api.list_draft_texts": Rule(P.WATCH),
    "POST api.enter_draft_text": Rule(P.PREPARE, json={"title": "Dự thảo", "text": "Điều 1."}),
    "GET api.get_draft_text": Rule(P.WATCH),
    "POST api.table_amendment": Rule("member", json={"line_from": 1, "line_to": 1,
                                                     "new_text": "Mới", "reasons": "Lý do"}),
    "POST api.withdraw_amendment": Rule("mover"),
    "POST api.admit_amendment": Rule(P.RUN, json={"admitted": True}),
    "PUT api.queue_amendments": Rule(P.RUN, json={"amendments": []}),
    "POST api.vote_amendment": Rule(P.CHAIR, json={"quorum_required": False}),
    "POST api.vote_draft_text": Rule(P.CHAIR, json={"quorum_required": False}),
    "GET api.list_polls": Rule(P.VIEW),
    "POST api.create_poll": Rule(P.CHAIR, json={"motion": "Biểu quyết mới"}),
    "GET api.get_poll": Rule(P.VIEW),
    "PATCH api.update_poll": Rule(P.CHAIR, json={"motion": "Sửa"}, poll="draft"),
    "POST api.open_poll": Rule(P.CHAIR, poll="draft"),
    "POST api.close_poll": Rule(P.CHAIR),
    "POST api.cancel_poll": Rule(P.CHAIR),
    "POST api.publish_poll": Rule(P.CHAIR, json={}, poll="closed"),
    "POST api.revote": Rule(P.CHAIR, poll="closed"),
    "POST api.cast_ballot": Rule(P.VOTE, json="BALLOT"),
    "GET api.my_status": Rule(P.VIEW),
    "GET api.progress": Rule(P.STAFF_VIEW),
    "GET api.result": Rule(P.VIEW, poll="published"),
    "GET api.result_csv": Rule(P.VIEW, poll="published"),
    "GET api.result_json": Rule(P.VIEW, poll="published"),
    "GET api.result_pdf": Rule(P.VIEW, poll="published"),
}


def api_operations(app) -> dict[str, object]:
    """Every "METHOD endpoint" under /api/, with its URL rule."""
    operations = {}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/"):
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                operations[f"{method} {rule.endpoint}"] = rule
    return operations


def test_every_endpoint_is_in_the_table(app):
    operations = api_operations(app)
    missing = sorted(set(operations) - set(RULES))
    assert not missing, f"add these endpoints to RULES in {__file__}: {missing}"
    stale = sorted(set(RULES) - set(operations))
    assert not stale, f"these RULES name endpoints that no longer exist: {stale}"


def _json_body(value, world, role):
    if value == "LOGIN":
        return {"username": world.usernames["delegate"], "password": factories.PASSWORD}
    if value == "REORDER":
        return {"items": [{"id": 1}, {"id": world.ids["item_id"]}]}
    if value == "PRESENT":
        return {"version_id": world.ids["version_id"], "page": 1}
    if value == "PUSH":
        return {"document_id": world.ids["document_id"]}
    if value == "BALLOT":
        return {"ballot_id": str(uuid.uuid4()), "choices": ["yes"]}
    if value is COMMENT:
        return {**COMMENT, "comment_period_id": world.ids["comment_period_id"]}
    if value is ANNOTATION:
        return {**ANNOTATION, "version_id": world.ids["version_id"]}
    return value


def build_url(rule, spec: Rule, world) -> str:
    values = {**world.ids, "poll_id": world.ids[f"poll_{spec.poll}"], **spec.params}
    for name in ("annotation_id", "comment_id"):
        if values.get(name) == "NEW":
            values[name] = str(uuid.uuid4())

    def fill(match):
        return str(values[match.group(2)])

    url = re.sub(r"<(?:(\w+):)?(\w+)>", fill, rule.rule)
    if spec.query:
        from urllib.parse import urlencode
        url += "?" + urlencode(spec.query)
    return url


def call(roles, role: str, operation: str, rule, spec: Rule):
    world = roles.world
    method = operation.split()[0]
    kw = {}
    if spec.json is not None:
        kw["json"] = _json_body(spec.json, world, role)
    elif spec.form is not None:
        kw["data"], kw["content_type"] = spec.form(world), "multipart/form-data"
    elif spec.data is not None:
        kw["data"], kw["content_type"] = spec.data, spec.content_type
    elif method in MUTATING:
        kw["json"] = {}
    return roles.request(role, method, build_url(rule, spec, world), **kw)


def _is_meeting_refusal(response) -> bool:
    body = response.get_json(silent=True) or {}
    return response.status_code == 404 and body.get("error", {}).get("message") == "No such meeting."


@pytest.mark.parametrize("operation", sorted(RULES))
def test_only_the_allowed_roles_get_through(world_app, roles, operation):
    app, world = world_app
    rule = api_operations(app).get(operation)
    if rule is None:
        pytest.fail(f"{operation} is in RULES but not in the app")
    spec = RULES[operation]
    allowed = allowed_roles(spec.level)
    refused = [role for role in ROLES if role not in allowed]
    problems = []

    before = snap.snapshot()
    for role in refused:
        refusals_before = len(snap.refusals())
        response = call(roles, role, operation, rule, spec)
        if response.status_code not in (401, 403, 404):
            problems.append(f"{role} (refused) got {response.status_code}: "
                            f"{response.get_data(as_text=True)[:200]}")
            continue
        changed = snap.changes(before, snap.snapshot())
        if changed:
            problems.append(f"{role} (refused) changed {changed}")
            before = snap.snapshot()
        if operation.split()[0] in MUTATING and len(snap.refusals()) <= refusals_before:
            problems.append(f"{role} (refused, {response.status_code}) was not audited")

    for role in sorted(allowed):
        response = call(roles, role, operation, rule, spec)
        if response.status_code in (401, 403) or _is_meeting_refusal(response) \
                or response.status_code >= 500:
            problems.append(f"{role} (allowed) got {response.status_code}: "
                            f"{response.get_data(as_text=True)[:200]}")
    assert not problems, f"{operation}:\n  " + "\n  ".join(problems)
    assert audit.verify().ok, "the refusals broke the audit chain"


def test_a_refusal_entry_says_who_what_and_where(world_app, roles):
    _app, world = world_app
    mid = world.ids["meeting_id"]
    for role in ("delegate", "tablet", "anonymous"):
        answer = roles.request(role, "PATCH", f"/api/v1/meetings/{mid}", json={"title": "Chiếm quyền"})
        assert answer.status_code in (401, 403)
    entries = snap.refusals()[-3:]
    actors = [entry.actor.split(":")[0] for entry in entries]
    assert actors == ["user", "device", "anonymous"]
    for entry in entries:
        assert entry.meeting_id == mid and entry.outcome == "refused"
        assert entry.payload["reason"].split()[0] in ("401", "403") or entry.payload["reason"]
    assert audit.verify().ok
