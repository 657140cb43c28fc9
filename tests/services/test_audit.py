"""The audit chain detects any edited, deleted or reordered entry."""
from __future__ import annotations

import pytest
from sqlalchemy import delete, select, update

from server.extensions import db
from server.models import AuditEntry
from server.services import audit
from server.services.actors import Actor


def _append(n: int) -> None:
    for i in range(n):
        audit.record("meeting.updated", "meeting", i, actor=Actor.system(), meeting_id=1,
                     payload={"title": f"Kỳ họp {i}", "n": i})
    db.session.commit()


def test_an_untouched_chain_verifies(app):
    _append(5)
    result = audit.verify()
    assert result.ok and result.entries == 5
    assert result.head == audit.head() != audit.GENESIS


def test_entries_link_to_their_predecessor(app):
    _append(3)
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
    assert [e.seq for e in entries] == [1, 2, 3]
    assert entries[0].prev_hash == audit.GENESIS
    assert entries[1].prev_hash == entries[0].hash and entries[2].prev_hash == entries[1].hash


@pytest.mark.parametrize("column, value", [
    ("payload", {"title": "forged", "n": 2}),
    ("actor", "user:999"),
    ("action", "meeting.deleted"),
    ("outcome", "refused"),
    ("object_id", "77"),
])
def test_an_edited_entry_is_detected(app, column, value):
    _append(5)
    db.session.execute(update(AuditEntry).where(AuditEntry.seq == 3).values({column: value}))
    db.session.commit()
    result = audit.verify()
    assert not result.ok
    assert any(problem.startswith("entry 3") for problem in result.problems)


def test_an_edit_that_also_fixes_the_payload_digest_is_detected(app):
    _append(4)
    forged = {"title": "forged", "n": 1}
    import hashlib

    digest = hashlib.sha256(audit.canonical_json(forged).encode()).hexdigest()
    db.session.execute(update(AuditEntry).where(AuditEntry.seq == 2)
                       .values(payload=forged, payload_sha256=digest))
    db.session.commit()
    assert "entry 2: content does not match its hash" in audit.verify().problems


def test_a_deleted_entry_is_detected(app):
    _append(5)
    db.session.execute(delete(AuditEntry).where(AuditEntry.seq == 2))
    db.session.commit()
    result = audit.verify()
    assert not result.ok
    assert "entry 2 is missing (next is 3)" in result.problems


def test_reordered_entries_are_detected(app):
    _append(4)
    rows = {e.seq: e for e in db.session.scalars(select(AuditEntry))}
    # Swap the sequence numbers of entries 2 and 3.
    db.session.execute(update(AuditEntry).where(AuditEntry.id == rows[2].id).values(seq=-2))
    db.session.execute(update(AuditEntry).where(AuditEntry.id == rows[3].id).values(seq=2))
    db.session.execute(update(AuditEntry).where(AuditEntry.id == rows[2].id).values(seq=3))
    db.session.commit()
    result = audit.verify()
    assert not result.ok
    assert any("does not follow" in problem for problem in result.problems)


def test_a_rebuilt_tail_changes_the_head(app):
    """Cutting the last entry leaves a valid chain, but a different head: the head is
    what the signed minutes commit to."""
    _append(3)
    head = audit.head()
    db.session.execute(delete(AuditEntry).where(AuditEntry.seq == 3))
    db.session.commit()
    assert audit.verify().ok
    assert audit.head() != head


def test_refusals_are_recorded_in_their_own_transaction(app):
    audit.record("meeting.updated", "meeting", 1, actor=Actor.system(), payload={})
    audit.record_refusal("poll.open", "poll", 4, actor=Actor.system(), meeting_id=1,
                         reason="not the chair")
    entries = db.session.scalars(select(AuditEntry)).all()
    # The pending (uncommitted) change was rolled back; the refusal stands.
    assert [(e.action, e.outcome) for e in entries] == [("poll.open", "refused")]
    assert entries[0].payload == {"reason": "not the chair"}
    assert audit.verify().ok


def test_payloads_with_vietnamese_decimals_and_dates_verify(app):
    from datetime import datetime, timezone
    from decimal import Decimal

    audit.record("participant.added", "participant", 1, actor=Actor.system(),
                 payload={"name": "Đặng Thị Ngọc Thịnh", "weight": Decimal("1.5"),
                          "at": datetime(2026, 11, 25, tzinfo=timezone.utc)})
    db.session.commit()
    assert audit.verify().ok


def test_writers_in_either_order_do_not_deadlock_on_postgresql(postgres_url, tmp_path):
    """One transaction changes a row, then audits; another audits, then bumps the same
    meeting's revision. With the writers' lock taken at the first write, they queue."""
    import threading

    from server import create_app
    from server.models import Base, Meeting
    from server.services import events
    from tests.conftest import test_config
    from tests.factories import make_meeting
    from tests.pg import scratch_database

    with scratch_database(postgres_url) as url:
        app = create_app(test_config(tmp_path, DATABASE_URL=url))
        errors: list[BaseException] = []
        with app.app_context():
            Base.metadata.create_all(db.engine)
            meeting_id = make_meeting().id
            db.session.remove()
        both_started = threading.Barrier(2, timeout=10)
        # The second writer audits first if it can; the first waits for that, briefly.
        second_audited = threading.Event()

        def change_then_audit():
            with app.app_context():
                try:
                    db.session.get(Meeting, meeting_id).title = "Đổi tên"
                    db.session.flush()
                    both_started.wait()
                    second_audited.wait(2)
                    audit.record("meeting.updated", "meeting", meeting_id, actor=Actor.system())
                    db.session.commit()
                except BaseException as exc:  # noqa: BLE001 - reported below
                    errors.append(exc)
                finally:
                    db.session.remove()

        def audit_then_publish():
            with app.app_context():
                try:
                    both_started.wait()
                    audit.record("session.opened", "meeting", meeting_id, actor=Actor.system())
                    second_audited.set()
                    events.publish(meeting_id, "session.changed", {})
                    db.session.commit()
                except BaseException as exc:  # noqa: BLE001
                    errors.append(exc)
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=change_then_audit),
                   threading.Thread(target=audit_then_publish)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        with app.app_context():
            assert errors == []
            assert db.session.get(Meeting, meeting_id).revision == 1
            assert audit.verify().ok and audit.verify().entries == 2
            db.session.remove()
        db.engine.dispose()
