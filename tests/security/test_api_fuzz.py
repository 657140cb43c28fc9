"""Schemathesis against /api/openapi.json, in process (WSGI), as an admin, a secretary and a delegate.

Every operation of the document gets a few generated requests (valid and
invalid shapes, path parameters half the time pointing at real seeded
objects). Checks: never a 5xx, only documented status codes, the documented
content type, and JSON bodies that validate against the response schema.
Budget: ``EXAMPLES`` per operation and role (override with HEMICYCLE_FUZZ_EXAMPLES).
"""
from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

schemathesis = pytest.importorskip("schemathesis")
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance, response_schema_conformance, status_code_conformance,
)

from tests import factories  # noqa: E402

EXAMPLES = int(os.environ.get("HEMICYCLE_FUZZ_EXAMPLES", "4"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
USER_AGENT = "hemicycle-fuzz/1"  # sessions are bound to the browser that logged in


def _credentials(app, world, role) -> tuple[dict, dict]:
    client = app.test_client()
    answer = client.post("/api/v1/auth/login", headers={"User-Agent": USER_AGENT},
                         json={"username": world.usernames[role], "password": factories.PASSWORD})
    assert answer.status_code == 200
    return {"User-Agent": USER_AGENT}, {"session": client.get_cookie("session").value}


@pytest.mark.parametrize("role", ["admin", "secretary", "delegate"])
def test_the_api_keeps_its_contract_under_generated_input(world_app, role):
    app, world = world_app
    headers, cookies = _credentials(app, world, role)
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    real_ids = {**world.ids, "poll_id": world.ids["poll_open"]}
    failures, operations = [], 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.method.upper() == "POST" and operation.path == "/api/v1/auth/logout":
            continue  # would end this role's session for the operations that follow
        operations += 1

        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(), real=st.booleans())
        def run(case, real):
            if real and case.path_parameters:
                for name in case.path_parameters:
                    if name in real_ids:
                        case.path_parameters[name] = real_ids[name]
            response = case.call(headers=headers, cookies=cookies)
            case.validate_response(response, checks=CHECKS)

        try:
            run()
        except Exception as exc:  # collect every operation's failure, not only the first
            failures.append(f"{operation.method.upper()} {operation.path}: "
                            f"{type(exc).__name__}: {str(exc)[:600]}")
    assert operations > 50, "the OpenAPI document lost its operations"
    assert not failures, "\n\n".join(failures)
