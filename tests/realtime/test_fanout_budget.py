"""What one agenda change costs: one packet per tablet, a fixed number of SQL statements.

The fan-out benchmark (docs/PERFORMANCE.md) compares a chair's ``item.set`` with a bare
Flask-SocketIO room emit. What Hemicycle adds is the work before that emit (and any
after it, before the handler lets the socket writers run); these tests pin it down
deterministically, in process, with Flask-SocketIO's test clients.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

import pytest
from sqlalchemy import event

from server.extensions import db, socketio
from server.models import Device, Meeting, utcnow
from server.realtime import ticks
from server.realtime.context import meeting_room
from server.services.session import session
from tests.realtime.seed import pair_device, seed_meeting

TABLETS = 4


@dataclass
class Ids:
    """Ids only: the handlers share this thread's session and end it at every event."""
    meeting_id: int
    item_ids: list[int]
    chair_device_id: int


# item.set by a paired chair tablet: the sender's device with its participant and meeting
# (1), the agenda (1), the meeting and item updates (2), the audit head and entry (2),
# the revision bump and the event (2). Was 14.
STATEMENT_BUDGET = 8


@pytest.fixture
def room(app):
    seeded = seed_meeting(delegates=TABLETS, pair_tablet=False)
    session.open_session(seeded.chair_actor, seeded.meeting.id)
    db.session.commit()
    chair_device, chair_token = pair_device(seeded, seeded.chair)
    tokens = [pair_device(seeded, person)[1] for person in seeded.delegates]
    ids = Ids(seeded.meeting.id, [item.id for item in seeded.items], chair_device.id)
    chair = socketio.test_client(app, auth={"token": chair_token})
    tablets = [socketio.test_client(app, auth={"token": token}) for token in tokens]
    assert chair.is_connected() and all(t.is_connected() for t in tablets)
    chair.get_received()
    for tablet in tablets:
        tablet.get_received()
    yield ids, chair, tablets
    for client in (chair, *tablets):
        if client.is_connected():
            client.disconnect()


@pytest.fixture
def trace(app, monkeypatch):
    """Every SQL statement and every server-level emit, in the order they happen."""
    log: list[tuple[str, object]] = []
    test_thread = threading.get_ident()

    def on_statement(_conn, _cursor, statement, _params, _context, _many):
        if threading.get_ident() == test_thread:
            log.append(("sql", statement))

    event.listen(db.engine, "before_cursor_execute", on_statement)
    emit = socketio.server.emit

    def recording_emit(name, data=None, *args, **kwargs):
        # Only this thread's: the test clients run the handlers here, while background
        # tasks left by earlier tests (other meetings, other databases) may emit meanwhile.
        # What reaches this meeting's tablets from anywhere is checked on the tablets.
        if threading.get_ident() == test_thread:
            log.append(("emit", (name, kwargs.get("to") or kwargs.get("room"))))
        return emit(name, data, *args, **kwargs)

    monkeypatch.setattr(socketio.server, "emit", recording_emit)
    yield log
    event.remove(db.engine, "before_cursor_execute", on_statement)


def set_item(chair, ids: Ids, item_id: int) -> dict:
    # The test clients run the handlers in this thread, with this thread's session:
    # start it empty, as a server's is at every event, so nothing is found in memory.
    db.session.remove()
    ack = chair.emit("item.set", {"meeting_id": ids.meeting_id, "item_id": item_id},
                     callback=True)
    assert ack["ok"] is True, ack
    return ack


def test_an_item_change_is_one_room_emit_and_one_packet_per_tablet(room, trace):
    ids, chair, tablets = room
    mid = ids.meeting_id
    set_item(chair, ids, ids.item_ids[0])  # from no current item
    for tablet in tablets:
        tablet.get_received()
    trace.clear()

    for item_id in (ids.item_ids[1], ids.item_ids[2], ids.item_ids[0]):
        ack = set_item(chair, ids, item_id)
        ticks.flush(mid)  # anything gathered for later would go out now
        emits = [what for kind, what in trace if kind == "emit"]
        assert emits == [("event", meeting_room(mid))], emits  # one emit, to the room
        for tablet in tablets:
            received = tablet.get_received()
            assert [(p["name"], p["args"][0]["type"]) for p in received] == \
                [("event", "item.changed")], received
            assert received[0]["args"][0]["revision"] == ack["revision"]
            assert received[0]["args"][0]["payload"]["current_item_id"] == item_id
        trace.clear()


def test_an_item_change_stays_within_its_statement_budget(room, trace):
    ids, chair, _tablets = room
    set_item(chair, ids, ids.item_ids[0])
    for item_id in (ids.item_ids[1], ids.item_ids[3], ids.item_ids[1]):
        trace.clear()
        set_item(chair, ids, item_id)
        statements = [what for kind, what in trace if kind == "sql"]
        assert len(statements) <= STATEMENT_BUDGET, "\n".join(statements)


def test_nothing_runs_between_the_broadcast_and_the_answer(room, trace):
    """The emit only queues packets; the tablets' writers run once the handler yields.
    A statement after the commit (a new transaction) would delay every tablet."""
    ids, chair, _tablets = room
    ack = set_item(chair, ids, ids.item_ids[1])
    kinds = [kind for kind, _ in trace]
    assert kinds[-1] == "emit" and kinds.count("emit") == 1, trace
    assert ack["revision"] == db.session.get(Meeting, ids.meeting_id).revision


def test_a_revoked_chair_tablet_is_stopped_at_its_next_command(room):
    ids, chair, tablets = room
    set_item(chair, ids, ids.item_ids[0])
    # Revoked elsewhere (another worker, the CLI): this process learns of it from the row only.
    db.session.get(Device, ids.chair_device_id).revoked_at = utcnow()
    db.session.commit()
    for tablet in tablets:
        tablet.get_received()
    ack = chair.emit("item.set", {"meeting_id": ids.meeting_id, "item_id": ids.item_ids[1]},
                     callback=True)
    assert ack["ok"] is False and ack["error"]["code"] == "revoked"
    db.session.expire_all()
    assert db.session.get(Meeting, ids.meeting_id).current_item_id == ids.item_ids[0]
    assert all(t.get_received() == [] for t in tablets)  # nothing was broadcast
