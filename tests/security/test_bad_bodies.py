"""Malformed bodies on every JSON endpoint: a structured 4xx that changes nothing, never a 5xx.

Generated from the ``@endpoint`` specs: every operation declaring a JSON body
gets invalid JSON, the wrong JSON type, absurd nesting, bytes that are not
UTF-8 and the wrong content type, from a logged-in admin (so authorisation
passes and the parsing is what is tested).
"""
from __future__ import annotations

import re

from tests.security import snapshot as snap

BAD_BODIES = {
    "truncated": ('{"title": "Kỳ họp'.encode(), "application/json"),
    "a list": (b"[1, 2, 3]", "application/json"),
    "a string": (b'"title"', "application/json"),
    "null": (b"null", "application/json"),
    "deep": (b"[" * 100_000 + b"]" * 100_000, "application/json"),
    "not utf-8": (b'{"title": "\xff\xfe\xfa"}', "application/json"),
    "form instead": (b"title=x", "application/x-www-form-urlencoded"),
    "huge number": (b'{"meeting_id": 1' + b"0" * 5000 + b"}", "application/json"),
}


def json_operations(app):
    for rule in app.url_map.iter_rules():
        spec = getattr(app.view_functions.get(rule.endpoint), "api_spec", None)
        if spec is not None and spec.body is not None and spec.content_type == "application/json":
            for method in rule.methods - {"HEAD", "OPTIONS", "GET"}:
                yield method, rule


def test_every_json_endpoint_refuses_malformed_bodies_cleanly(world_app, roles):
    app, world = world_app
    values = {**world.ids, "poll_id": world.ids["poll_draft"], "annotation_id": world.ids["annotation_id"],
              "code": "x" * 32}  # a signing session's one-time code (unknown: not found)
    before = snap.snapshot()
    problems, checked = [], 0
    for method, rule in sorted(json_operations(app), key=lambda o: o[1].rule):
        if rule.endpoint == "api.logout":
            continue
        url = re.sub(r"<(?:(\w+):)?(\w+)>", lambda m: str(values[m.group(2)]), rule.rule)
        for name, (data, content_type) in BAD_BODIES.items():
            response = roles.request("admin", method, url, data=data, content_type=content_type)
            checked += 1
            body = response.get_json(silent=True) or {}
            if not 400 <= response.status_code < 500 or not body.get("error", {}).get("code"):
                problems.append(f"{method} {rule.rule} with {name}: {response.status_code} "
                                f"{response.get_data(as_text=True)[:120]}")
    assert checked >= 30 * len(BAD_BODIES) // 2
    assert not problems, "\n".join(problems)
    changed = snap.changes(before, snap.snapshot())
    assert changed == [], f"malformed bodies changed {changed}"
