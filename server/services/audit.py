"""The audit log: every state change appended to a hash chain.

Each entry's hash covers the previous entry's hash, its sequence number and
its content, so an edited, deleted or reordered entry breaks the chain at that
point. The chain's head is printed in the signed minutes, and signed checkpoints
of the head are kept outside the database (``services.anchoring``): those catch
entries cut from the end and a history rewritten with every later hash recomputed.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import Enum

from sqlalchemy import event, select, text
from sqlalchemy.orm import Session

from server.extensions import db
from server.models import AuditEntry, utcnow
from server.services.actors import Actor

GENESIS = "0" * 64
_POSTGRES_LOCK_KEY = 0x48454D49  # "HEMI": serialises appends across workers


def canonical_json(value) -> str:
    def default(obj):
        if isinstance(obj, datetime):
            return obj.isoformat()
        if isinstance(obj, Decimal):
            return str(obj)
        if isinstance(obj, Enum):
            return obj.value
        raise TypeError(f"not JSON serialisable: {type(obj).__name__}")

    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=default)


def entry_hash(entry: AuditEntry) -> str:
    fields = [
        entry.prev_hash, str(entry.seq), entry.at.isoformat(), entry.actor, entry.action,
        entry.object_type, entry.object_id, str(entry.meeting_id or ""), entry.outcome,
        entry.payload_sha256,
    ]
    return hashlib.sha256("\x1f".join(fields).encode()).hexdigest()


_WRITE_LOCK_HELD = "hemicycle.write_lock_held"


def serialize_writes(session: Session) -> None:
    """On PostgreSQL, take the one writers' lock before the transaction's first write.

    Every change appends to the single audit chain and most bump a meeting's
    revision; taking the chain's lock first, always, gives all writers one lock
    order, so a transaction that changed a row and then audits cannot deadlock
    with one that audited and then publishes an event. Held until commit or
    rollback. SQLite has a single writer lock of its own.
    """
    if session.info.get(_WRITE_LOCK_HELD):
        return
    session.info[_WRITE_LOCK_HELD] = True
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _POSTGRES_LOCK_KEY})


@event.listens_for(Session, "before_flush")
def _lock_before_flush(session, _context, _instances):
    if session.new or session.dirty or session.deleted:
        serialize_writes(session)


@event.listens_for(Session, "do_orm_execute")
def _lock_before_bulk_write(state):
    if state.is_update or state.is_delete or state.is_insert:
        serialize_writes(state.session)


_SQLITE_WRITER = "hemicycle.sqlite_writer_held"
_TAIL = "hemicycle.audit_tail"


def sqlite_writer_lock_held(session: Session) -> None:
    """Note that this SQLite transaction already holds the database's writer lock (it has
    run an UPDATE), so appends in it need not take the lock again: each ballot locks its
    poll and then audits, one statement fewer. Forgotten at commit or rollback."""
    session.info[_SQLITE_WRITER] = True


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _release(session):
    if not session.in_nested_transaction():  # not for a savepoint inside the transaction
        session.info.pop(_WRITE_LOCK_HELD, None)
        session.info.pop(_SQLITE_WRITER, None)
        session.info.pop(_TAIL, None)


@event.listens_for(Session, "after_soft_rollback")
def _forget_tail(session, previous_transaction):
    """A rolled-back savepoint may have taken appends with it: read the head again."""
    session.info.pop(_TAIL, None)


def _head(session: Session) -> tuple[int, str]:
    """The chain's last (seq, hash), read once per transaction: from the first append on,
    this transaction holds the writers' lock, so nobody else can append before it ends."""
    tail = session.info.get(_TAIL)
    if tail is None:
        head = session.execute(
            select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
        ).first()
        tail = (head.seq, head.hash) if head else (0, GENESIS)
    return tail


def current_head(session: Session) -> tuple[int, str]:
    """The (seq, hash) this transaction would leave as the chain's head if it committed now:
    its own last append if it made one (it then holds the writers' lock), else the stored
    head. Used to checkpoint the head at commit (``services.anchoring``)."""
    return _head(session)


def record(action: str, obj_type: str, obj_id="", *, actor: Actor, meeting_id: int | None = None,
           payload: dict | None = None, outcome: str = "ok", flush: bool = True) -> AuditEntry:
    """Append an entry in the current transaction; it commits with the change it records.

    ``flush=False`` leaves the INSERT to the next flush, so a batch of appends
    (a batch of ballots) is written in one statement.
    """
    session = db.session
    serialize_writes(session)
    if session.get_bind().dialect.name == "sqlite" and not session.info.get(_SQLITE_WRITER):
        # Take SQLite's writer lock before reading the head: otherwise two
        # sessions can read the same head and append the same seq.
        session.execute(text("UPDATE audit_entry SET seq = seq WHERE 0"))
        sqlite_writer_lock_held(session)
    last_seq, last_hash = _head(session)
    payload_json = canonical_json(payload or {})
    entry = AuditEntry(
        seq=last_seq + 1,
        at=utcnow(),
        actor=actor.audit_name,
        action=action,
        object_type=obj_type,
        object_id=str(obj_id),
        meeting_id=meeting_id,
        outcome=outcome,
        payload=json.loads(payload_json),
        payload_sha256=hashlib.sha256(payload_json.encode()).hexdigest(),
        prev_hash=last_hash,
    )
    # Microseconds survive every backend, so the hash is recomputed exactly.
    entry.hash = entry_hash(entry)
    session.add(entry)
    session.info[_TAIL] = (entry.seq, entry.hash)
    if flush:
        session.flush()
    return entry


def record_refusal(action: str, obj_type: str, obj_id="", *, actor: Actor,
                   meeting_id: int | None = None, reason: str = "") -> None:
    """Audit a refused action in a transaction of its own (the action's was rolled back)."""
    db.session.rollback()
    record(action, obj_type, obj_id, actor=actor, meeting_id=meeting_id,
           payload={"reason": reason}, outcome="refused")
    db.session.commit()


def head() -> str:
    value = db.session.scalar(select(AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1))
    return value or GENESIS


@dataclass
class VerifyResult:
    ok: bool
    entries: int
    head: str
    problems: list[str]


def verify() -> VerifyResult:
    """Walk the whole chain and report every entry that does not fit."""
    problems: list[str] = []
    prev_hash, expected_seq, count = GENESIS, 1, 0
    for entry in db.session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).yield_per(1000):
        count += 1
        if entry.seq != expected_seq:
            problems.append(f"entry {expected_seq} is missing (next is {entry.seq})")
        if entry.prev_hash != prev_hash:
            problems.append(f"entry {entry.seq}: does not follow the previous entry")
        digest = hashlib.sha256(canonical_json(entry.payload).encode()).hexdigest()
        if digest != entry.payload_sha256:
            problems.append(f"entry {entry.seq}: payload was changed")
        if entry_hash(entry) != entry.hash:
            problems.append(f"entry {entry.seq}: content does not match its hash")
        prev_hash, expected_seq = entry.hash, entry.seq + 1
    return VerifyResult(ok=not problems, entries=count, head=prev_hash, problems=problems)
