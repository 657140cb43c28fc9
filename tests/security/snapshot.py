"""What "changed nothing" means: every row of every table, and the audit chain minus refusals."""
from __future__ import annotations

import hashlib

from sqlalchemy import select

from server.extensions import db
from server.models import AuditEntry, Base

# Bookkeeping a refused request may legitimately touch: when a device was last seen.
VOLATILE = {("device", "last_seen_at")}


def snapshot() -> dict:
    db.session.remove()  # read what is committed, not this session's cache
    state: dict[str, object] = {}
    for table in Base.metadata.sorted_tables:
        if table.name == AuditEntry.__tablename__:
            continue
        columns = [c for c in table.columns if (table.name, c.name) not in VOLATILE]
        rows = sorted(repr(tuple(row)) for row in db.session.execute(select(*columns)))
        state[table.name] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())
    state["audit"] = [tuple(r) for r in db.session.execute(
        select(AuditEntry.seq, AuditEntry.action).where(AuditEntry.outcome != "refused")
        .order_by(AuditEntry.seq))]
    db.session.remove()
    return state


def refusals() -> list[AuditEntry]:
    db.session.remove()
    entries = list(db.session.scalars(select(AuditEntry).where(AuditEntry.outcome == "refused")
                                      .order_by(AuditEntry.seq)))
    db.session.remove()
    return entries


def changes(before: dict, after: dict) -> list[str]:
    return [name for name in before if before[name] != after.get(name)]
