"""Every socket command against every kind of connection, on a live server, from one table.

``SOCKET_RULES`` names, for each command of ``server.realtime.commands.COMMANDS``,
the least a sender needs (a meeting permission, or "lead": the chair or the
meeting's secretaries, or "device": the meeting's paired tablet). A command
that is not in the table fails the first test: add it.
"""
from __future__ import annotations

import time
import uuid
from types import SimpleNamespace

import pytest

from server.realtime.commands import COMMANDS
from server.services.access import Permission as P
from tests.realtime.clients import LiveClient, login_cookie, refused_reason
from tests.security import snapshot as snap
from tests.security.test_authorisation_matrix import ROLE_GRANTS
from tests.security.world import ACCOUNT_ROLES, ROLES

pytestmark = pytest.mark.live

SOCKET_LEVELS = {
    "lead": {"admin", "secretary", "chair"},  # Permission.CHAIR or RUN
    "device": {"tablet"},
}
# Error codes that mean "refused for who you are" (never a validation of the payload).
REFUSED_CODES = {"forbidden", "not_authenticated", "not_found", "wrong_meeting", "tablet_only",
                 "no_voting_right",
                 "sealed"}


def _allowed(level) -> set[str]:
    if isinstance(level, P):
        return {role for role, grants in ROLE_GRANTS.items() if level in grants}
    return SOCKET_LEVELS[level]


# ONE table: command -> (who may send it, payload beyond meeting_id).
SOCKET_RULES: dict[str, tuple] = {
    "sync": (P.WATCH, {}),
    "session.open": ("lead", {}),
    "session.pause": ("lead", {}),
    "session.resume": ("lead", {}),
    "session.adjourn": ("lead", {}),
    "item.set": ("lead", {"item_id": "item_id"}),
    "item.next": ("lead", {}),
    "item.previous": ("lead", {}),
    "timer.start": ("lead", {}),
    "timer.pause": ("lead", {}),
    "timer.resume": ("lead", {}),
    "timer.reset": ("lead", {}),
    "attendance.mark": (P.RUN, {"participant_id": "participant_id", "status": "present"}),
    "attendance.check_in": ("device", {"door_token": "not-the-door-code"}),
    "device.status": ("device", {"battery": 0.5, "charging": True, "connection": "wifi"}),
    "device.wiped": ("device", {}),
    "floor.request": (P.SPEAK, {}),
    "floor.withdraw": (P.SPEAK, {}),
    "floor.grant": (P.CHAIR, {"request_id": 1}),
    "floor.end": (P.CHAIR, {}),
    "floor.cancel": (P.CHAIR, {"request_id": 1}),
    "floor.reorder": (P.CHAIR, {"request_ids": []}),
    "poll.open": (P.CHAIR, {"poll_id": "poll_draft"}),
    "poll.close": (P.CHAIR, {"poll_id": "poll_open"}),
    "poll.cancel": (P.CHAIR, {"poll_id": "poll_open"}),
    "poll.publish": (P.CHAIR, {"poll_id": "poll_closed"}),
    "ballot.cast": (P.VOTE, {"poll_id": "poll_open", "ballot_id": "NEW", "choices": ["yes"]}),
    "poll.status": (P.VIEW, {"poll_id": "poll_open"}),
    "poll.progress": (P.STAFF_VIEW, {"poll_id": "poll_open"}),
}
# Commands the allowed roles send last: after them the meeting is no longer running.
LAST = ("poll.cancel", "session.adjourn")


def test_every_command_is_in_the_table(live_world):  # its app registered every command
    missing = sorted(set(COMMANDS) - set(SOCKET_RULES))
    assert not missing, f"add these socket commands to SOCKET_RULES in {__file__}: {missing}"
    assert not set(SOCKET_RULES) - set(COMMANDS), "SOCKET_RULES names commands that are gone"


def payload(world, name: str) -> dict:
    _level, extra = SOCKET_RULES[name]
    data = {"meeting_id": world.ids["meeting_id"]}
    for key, value in extra.items():
        if value == "NEW":
            value = str(uuid.uuid4())
        elif isinstance(value, str) and value in world.ids:
            value = world.ids[value]
        data[key] = value
    return data


def connect(live_world, role: str) -> LiveClient:
    world = live_world.world
    if role in ACCOUNT_ROLES:
        cookie = login_cookie(live_world.url, SimpleNamespace(username=world.usernames[role]))
        return LiveClient(live_world.url, cookie=cookie,
                          auth={"meeting_id": world.ids["meeting_id"]}).connect()
    return LiveClient(live_world.url, auth={"token": world.tokens[role]}).connect()


def test_nobody_connects_without_credentials(live_world):
    mid = live_world.world.ids["meeting_id"]
    assert refused_reason(live_world.url, auth={"meeting_id": mid})["data"]["code"] == "not_authenticated"
    assert refused_reason(live_world.url, auth={"token": "x" * 43})["data"]["code"] == "invalid_token"
    # A logged-in delegate cannot follow a meeting they do not take part in.
    cookie = login_cookie(live_world.url,
                          SimpleNamespace(username=live_world.world.usernames["delegate"]))
    other = live_world.world.ids["other_meeting_id"]
    assert refused_reason(live_world.url, cookie=cookie,
                          auth={"meeting_id": other})["data"]["code"] == "not_found"


def test_every_command_only_for_the_allowed_roles(live_world):
    world = live_world.world
    connected = [role for role in ROLES if role != "anonymous"]
    clients = {role: connect(live_world, role) for role in connected}
    problems = []
    try:
        refused_before = len(snap.refusals())
        expected_audits = 0
        before = snap.snapshot()
        for name in sorted(SOCKET_RULES):
            allowed = _allowed(SOCKET_RULES[name][0])
            for role in connected:
                if role in allowed:
                    continue
                answer = clients[role].call(name, payload(world, name))
                code = answer.get("error", {}).get("code")
                if answer.get("ok") or code not in REFUSED_CODES:
                    problems.append(f"{name}: {role} (refused) got {answer}")
                expected_audits += code in ("forbidden", "not_authenticated", "tablet_only",
                                            "no_voting_right")
            time.sleep(0.1)  # stay under the per-connection event rate
        changed = snap.changes(before, snap.snapshot())
        assert not changed, f"refused socket commands changed {changed}"
        assert len(snap.refusals()) - refused_before >= expected_audits, \
            "every refused socket command is audited"

        time.sleep(3.5)  # let every bucket refill
        order = [n for n in sorted(SOCKET_RULES) if n not in LAST] + list(LAST)
        for name in order:
            for role in sorted(_allowed(SOCKET_RULES[name][0])):
                answer = clients[role].call(name, payload(world, name))
                code = answer.get("error", {}).get("code")
                if code in ("forbidden", "not_authenticated", "wrong_meeting", "too_many_requests",
                            "internal_error"):
                    problems.append(f"{name}: {role} (allowed) got {answer}")
            time.sleep(0.1)
    finally:
        for client in clients.values():
            client.close()
    assert not problems, "\n".join(problems)
