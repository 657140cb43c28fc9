"""docs/PROTOCOL.md names every event type the server publishes and every socket command."""
from __future__ import annotations

import re

from tests.live import ROOT

PROTOCOL = ROOT / "docs" / "PROTOCOL.md"
# events.publish(meeting_id, "type", ...) and the modules' own wrappers, e.g.
# documents._publish(document, "document.added", ...): the first string argument.
PUBLISH = re.compile(r"\b_?publish\(\s*[^,()\"]*(?:\([^()]*\))?[^,()\"]*,\s*\"([a-z][a-z_.]*)\"")


def published_types() -> set[str]:
    found = set()
    for path in (ROOT / "server").rglob("*.py"):
        found.update(PUBLISH.findall(path.read_text(encoding="utf-8")))
    return found


def documented(name: str, text: str) -> bool:
    """Named in code style, as the tables do: `poll.open`."""
    return f"`{name}`" in text


def test_the_scan_finds_the_publishers():
    types = published_types()
    # A few of each kind of call, so a broken pattern cannot pass by finding nothing.
    assert {"session.changed", "document.added", "annotation.saved", "poll.progress",
            "device.status", "meeting.sealed"} <= types, types


def test_every_published_event_type_is_documented():
    text = PROTOCOL.read_text(encoding="utf-8")
    missing = sorted(t for t in published_types() if not documented(t, text))
    assert missing == [], f"event types missing from docs/PROTOCOL.md: {missing}"


def test_every_socket_command_is_documented(app):
    from server.realtime.commands import COMMANDS

    assert {"sync", "ballot.cast", "device.status", "device.wiped"} <= set(COMMANDS)
    text = PROTOCOL.read_text(encoding="utf-8")
    missing = sorted(name for name in COMMANDS if not documented(name, text))
    assert missing == [], f"socket commands missing from docs/PROTOCOL.md: {missing}"


QUEUE = re.compile(r"\bnotices\.queue\(\s*\"([a-z][a-z_.]*)\"")


def test_every_consultation_notice_is_documented():
    found = set()
    for path in (ROOT / "server").rglob("*.py"):
        found.update(QUEUE.findall(path.read_text(encoding="utf-8")))
    assert {"consultation.opened", "consultation.answered", "consultation.closed"} <= found
    text = PROTOCOL.read_text(encoding="utf-8")
    assert sorted(t for t in found if not documented(t, text)) == []
