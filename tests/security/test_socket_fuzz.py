"""Generated socket payloads for every command, on a live server: an error ack, never a crash.

Every command gets its own short run (``EXAMPLES`` payloads), drawn from the fields its schema declares (each
filled with any JSON value, the right meeting id most of the time), plus
whole non-object payloads, extra arguments and unknown event names. Every
call must be answered ``{"ok": ...}``; a refusal carries a code and is never
``internal_error``; the server keeps answering /healthz.
"""
from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
import requests
from hypothesis import HealthCheck, given, settings, strategies as st

from server.realtime.commands import COMMANDS
from tests.realtime.clients import LiveClient, login_cookie

pytestmark = pytest.mark.live

EXAMPLES = 3  # per command and role; every command gets its own run
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-2**70, max_value=2**70)
    | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=10,
)


def command_calls(name: str, meeting_id: int):
    """(event, args) for one command: its declared fields filled with any JSON value."""
    fields = {f: JSON for f in COMMANDS[name].schema.model_fields if f != "meeting_id"}
    meeting = st.sampled_from([meeting_id] * 4 + [0, -1, str(meeting_id), 2**40, None])
    body = st.fixed_dictionaries({"meeting_id": meeting}, optional={**fields, "unexpected": JSON})
    return st.tuples(st.just(name), st.one_of(body.map(lambda b: (b,)), JSON.map(lambda v: (v,)),
                                              st.tuples(body, JSON), st.just(())))


UNKNOWN_EVENTS = st.tuples(
    st.text(max_size=30).filter(lambda s: s not in COMMANDS and s not in (
        "connect", "disconnect", "message")),
    JSON.map(lambda v: (v,)))


@pytest.mark.parametrize("role", ["chair", "tablet"])
def test_every_command_survives_generated_payloads(live_world, role):
    world = live_world.world
    mid = world.ids["meeting_id"]
    if role == "tablet":
        client = LiveClient(live_world.url, auth={"token": world.tokens["tablet"]})
    else:
        cookie = login_cookie(live_world.url, SimpleNamespace(username=world.usernames[role]))
        client = LiveClient(live_world.url, cookie=cookie, auth={"meeting_id": mid})
    bad = []

    def send(call):
        name, args = call
        time.sleep(0.11)  # under the per-connection rate: throttling is not what is tested
        data = None if not args else args[0] if len(args) == 1 else tuple(args)  # a tuple: several
        answer = client.sio.call(name, data, timeout=15)
        if not isinstance(answer, dict) or not isinstance(answer.get("ok"), bool):
            bad.append((name, args, answer))
        elif not answer["ok"]:
            error = answer.get("error") or {}
            if not error.get("code") or not error.get("message") or error["code"] == "internal_error":
                bad.append((name, args, answer))

    def fuzz(strategy, examples: int) -> None:
        def run(call):  # a fresh function per run: hypothesis decorates it
            send(call)

        given(call=strategy)(settings(max_examples=examples, deadline=None, database=None,
                                      derandomize=True,
                                      suppress_health_check=list(HealthCheck))(run))()

    with client:
        for name in sorted(COMMANDS):
            fuzz(command_calls(name, mid), EXAMPLES)
        fuzz(UNKNOWN_EVENTS, 10)
        assert client.sio.connected, "the server hung up on a well-behaved (if odd) client"
    assert requests.get(live_world.url + "/healthz", timeout=5).status_code == 200
    assert not bad, bad[:10]
