"""``hemicycle audit verify``: the chain in the database against what lies outside it.

Three checks, each naming what broke:

1. the chain recomputes entry by entry (``audit.verify``);
2. every checkpoint (``checkpoints.jsonl``, or a copy kept elsewhere) is signed by the
   audit key and its entry is still in the chain with its hash: a cut tail or a history
   re-chained with every later hash recomputed no longer matches;
3. the audit head stated in every finalised minutes' PDF (the signed one once signed) is
   an entry of the chain, before that minutes' ``minutes.finalised`` entry.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from server.errors import HemicycleError
from server.extensions import db
from server.models import AuditEntry, Minutes
from server.services import audit
from server.services.anchoring import checkpoints as cp
from server.services.minutes.minutes import current_pdf
from server.services.minutes.verify import stated_audit_head


@dataclass
class ChainReport:
    entries: int = 0
    head: str = audit.GENESIS
    checkpoints: int = 0
    timestamped: int = 0
    minutes: int = 0
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _hashes(seqs: set[int]) -> dict[int, str]:
    found: dict[int, str] = {}
    ordered = sorted(seqs)
    for start in range(0, len(ordered), 500):
        batch = ordered[start:start + 500]
        found.update((seq, digest) for seq, digest in db.session.execute(
            select(AuditEntry.seq, AuditEntry.hash).where(AuditEntry.seq.in_(batch))))
    return found


def _last_seq() -> int:
    return db.session.scalar(select(AuditEntry.seq).order_by(AuditEntry.seq.desc()).limit(1)) or 0


def check_checkpoints(report: ChainReport, path: Path, public_pem: bytes | None,
                      tsa_roots: list[bytes] | None) -> None:
    if not path.is_file():
        report.notes.append(f"no checkpoint file at {path}: nothing outside the database "
                            "anchors the chain yet")
        return
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    checked = cp.read_checkpoints(lines, public_pem, tsa_roots)
    report.checkpoints = sum(1 for line in checked if line.checkpoint is not None)
    report.timestamped = sum(1 for line in checked if line.timestamp and line.timestamp.ok)
    for line in checked:
        report.problems.extend(line.problems)
    seqs = {line.checkpoint["seq"] for line in checked if line.checkpoint is not None}
    report.problems.extend(cp.compare_with_chain(checked, _hashes(seqs), _last_seq()))


def check_minutes_heads(report: ChainReport) -> None:
    rows = db.session.scalars(select(Minutes).where(Minutes.pdf_sha256.is_not(None))
                              .order_by(Minutes.id)).all()
    for minutes in rows:
        report.minutes += 1
        where = f"minutes of meeting {minutes.meeting_id}"
        try:
            stated = stated_audit_head(current_pdf(minutes))
        except HemicycleError as error:
            report.problems.append(f"{where}: {error.message}")
            continue
        if stated is None:
            report.problems.append(f"{where}: the PDF states no audit head")
            continue
        if minutes.audit_head != stated:
            report.problems.append(f"{where}: the database's audit head differs from the one "
                                   "the PDF states")
        finalised = db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "minutes.finalised",
                                     AuditEntry.object_id == str(minutes.id))
            .order_by(AuditEntry.seq.desc()).limit(1))
        if finalised is None:
            report.problems.append(f"{where}: the chain has no minutes.finalised entry for them")
        elif not _precedes(stated, finalised):
            report.problems.append(f"{where}: the audit head the signed minutes state "
                                   f"({stated[:16]}…) is not in the chain before their "
                                   f"finalisation (entry {finalised.seq})")


def _precedes(stated: str, finalised: AuditEntry) -> bool:
    """Whether the stated head is an entry shortly before the finalisation: normally the
    very previous one; another worker may have appended while the PDF was rendered. The
    search stays on the seq index (``hash`` has none)."""
    if finalised.prev_hash == stated:
        return True
    return db.session.scalar(
        select(AuditEntry.seq).where(AuditEntry.seq.between(finalised.seq - 1000, finalised.seq),
                                     AuditEntry.hash == stated).limit(1)) is not None


def verify_chain(checkpoint_file: Path | None = None, public_pem: bytes | None = None,
                 tsa_roots: list[bytes] | None = None) -> ChainReport:
    """Run the three checks; ``checkpoint_file`` and ``public_pem`` default to the data
    directory's (a copy kept off the machine is the stronger check)."""
    chain = audit.verify()
    report = ChainReport(entries=chain.entries, head=chain.head, problems=list(chain.problems))
    if public_pem is None:
        key_path = cp.keys.public_key_path()
        public_pem = key_path.read_bytes() if key_path.is_file() else None
    check_checkpoints(report, checkpoint_file or cp.checkpoint_path(), public_pem, tsa_roots)
    check_minutes_heads(report)
    return report
