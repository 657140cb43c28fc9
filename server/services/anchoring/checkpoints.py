"""Signed checkpoints of the audit chain's head, appended to a file outside the database.

A checkpoint is one JSON line of ``DATA_DIR/audit/checkpoints.jsonl``::

    {"at": "...", "hash": "<entry hash>", "key": "<audit key id>", "reason": "meeting.sealed",
     "seq": 412, "sig": "<base64 ECDSA>", "tst": "<base64 RFC 3161 token, optional>", "v": 1}

``sig`` is the audit key's signature over the line's other fields (canonical JSON, without
``sig`` and ``tst``); ``tst``, when a TSA is configured, timestamps the signed fields and the
signature together. Because each entry's hash covers every entry before it, one checkpoint
anchors the whole history up to its ``seq``: a later chain must still have that entry with
that hash. Lines are only ever appended (one ``write`` with ``O_APPEND``).

Checkpoints are written after the commit of a transaction that asked for one (minutes
finalised, meeting sealed: ``checkpoint_at_commit``), every ``AUDIT_CHECKPOINT_SECONDS`` by
the serving process when the head has moved, and by ``hemicycle audit checkpoint``.
"""
from __future__ import annotations

import base64
import json
import logging
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from server.extensions import db, socketio
from server.services import audit
from server.services.anchoring import keys, tsa

log = logging.getLogger(__name__)

FILE_NAME = "checkpoints.jsonl"
VERSION = 1
_PENDING = "hemicycle.checkpoint_reasons"
_CAPTURED = "hemicycle.checkpoint_head"


def checkpoint_path(config=None) -> Path:
    config = config or current_app.config
    configured = config.get("AUDIT_CHECKPOINT_FILE")
    return Path(configured) if configured else keys.audit_dir(config["DATA_DIR"]) / FILE_NAME


def signed_bytes(checkpoint: dict) -> bytes:
    """What the audit key signs: every field but the signature and the timestamp."""
    return audit.canonical_json({k: v for k, v in checkpoint.items()
                                 if k not in ("sig", "tst")}).encode()


def stamped_bytes(checkpoint: dict) -> bytes:
    """What the TSA timestamps: the signed fields and the signature."""
    return audit.canonical_json({k: v for k, v in checkpoint.items() if k != "tst"}).encode()


def last_checkpoint(path: Path) -> dict | None:
    """The file's last readable line, or None."""
    if not path.is_file():
        return None
    with path.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        handle.seek(max(0, handle.tell() - 16384))
        lines = handle.read().decode("utf-8", "replace").splitlines()
    for line in reversed(lines):
        try:
            return json.loads(line)
        except ValueError:
            continue
    return None


def write_checkpoint(seq: int, head: str, reason: str, *, config=None,
                     only_if_moved: bool = False) -> dict | None:
    """Sign (and timestamp, with a TSA configured) the head ``(seq, head)`` and append it.

    With ``only_if_moved``, nothing is written when the file's last checkpoint already
    states this head (the interval's checkpoints on a quiet server).
    """
    config = config or current_app.config
    path = checkpoint_path(config)
    if only_if_moved:
        last = last_checkpoint(path)
        if last is not None and (last.get("seq"), last.get("hash")) == (seq, head):
            return None
    signer = keys.signer(config)
    checkpoint = {"v": VERSION, "seq": seq, "hash": head, "reason": reason, "key": signer.key_id(),
                  "at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    checkpoint["sig"] = base64.b64encode(signer.sign(signed_bytes(checkpoint))).decode()
    if config.get("AUDIT_TSA_URL"):
        try:
            checkpoint["tst"] = tsa.request_token(config["AUDIT_TSA_URL"],
                                                  stamped_bytes(checkpoint))
        except tsa.TimestampError as exc:
            # The signed checkpoint still anchors the head; the next one may get its stamp.
            log.warning("audit checkpoint %s written without a timestamp: %s", seq, exc)
    line = (audit.canonical_json(checkpoint) + "\n").encode()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, line)  # one write in append mode: lines of two workers never interleave
        os.fsync(fd)
    finally:
        os.close(fd)
    return checkpoint


def checkpoint_now(reason: str, *, only_if_moved: bool = False) -> dict | None:
    """Checkpoint the committed head (in an app context, outside any transaction's changes)."""
    seq, head = audit.current_head(db.session)
    if seq == 0:
        return None  # an empty chain has nothing to anchor
    return write_checkpoint(seq, head, reason, only_if_moved=only_if_moved)


def checkpoint_at_commit(reason: str) -> None:
    """Ask for a checkpoint of the head this transaction leaves, written once it commits
    (never for a transaction that rolls back: its head never existed)."""
    db.session.info.setdefault(_PENDING, []).append(reason)


@event.listens_for(Session, "before_commit")
def _capture_head(session):
    reasons = session.info.get(_PENDING)
    if reasons:
        session.info[_CAPTURED] = (audit.current_head(session), ",".join(dict.fromkeys(reasons)))


@event.listens_for(Session, "after_commit")
def _write_after_commit(session):
    if session.in_nested_transaction():
        return
    session.info.pop(_PENDING, None)
    captured = session.info.pop(_CAPTURED, None)
    if captured is None or not has_app_context():
        return
    (seq, head), reason = captured
    try:
        write_checkpoint(seq, head, reason)
    except Exception:  # the change is committed; the next checkpoint will anchor it
        log.exception("audit checkpoint after %s failed", reason)


@event.listens_for(Session, "after_rollback")
def _forget(session):
    if not session.in_nested_transaction():
        session.info.pop(_PENDING, None)
        session.info.pop(_CAPTURED, None)


def run_forever(app) -> None:
    """The serving process's interval checkpoints (a background task, like the heartbeat)."""
    interval = float(app.config.get("AUDIT_CHECKPOINT_SECONDS") or 0)
    if interval <= 0:
        return
    while True:
        socketio.sleep(interval)
        try:
            with app.app_context():
                try:
                    checkpoint_now("interval", only_if_moved=True)
                finally:
                    db.session.remove()
        except Exception:  # the database may be down for a while: try again next time
            log.warning("audit checkpoint skipped", exc_info=True)


@dataclass
class CheckpointLine:
    """One line of a checkpoint file, read and its signature (and timestamp) checked."""
    number: int  # 1-based line number
    checkpoint: dict | None
    problems: list[str]
    timestamp: tsa.TokenCheck | None = None

    @property
    def label(self) -> str:
        c = self.checkpoint or {}
        if not c:
            return f"checkpoint {self.number}"
        return (f"checkpoint {self.number} (seq {c.get('seq')}, {c.get('at')}, "
                f"{c.get('reason')})")


def read_checkpoints(lines: list[str], public_pem: bytes | None,
                     tsa_roots: list[bytes] | None = None) -> list[CheckpointLine]:
    """Parse the lines and check each one's signature against ``public_pem``."""
    expected_key = keys.key_id(public_pem) if public_pem else None
    result = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            checkpoint = json.loads(line)
            if not (isinstance(checkpoint, dict) and isinstance(checkpoint.get("seq"), int)
                    and isinstance(checkpoint.get("hash"), str)
                    and isinstance(checkpoint.get("sig"), str)):
                raise ValueError("fields missing")
        except ValueError:
            result.append(CheckpointLine(number, None, [f"checkpoint {number}: unreadable line"]))
            continue
        entry = CheckpointLine(number, checkpoint, [])
        if public_pem is None:
            entry.problems.append(f"{entry.label}: no audit public key to check it with")
        elif checkpoint.get("key") != expected_key:
            entry.problems.append(f"{entry.label}: signed by another key ({checkpoint.get('key')})")
        else:
            try:
                signature = base64.b64decode(checkpoint["sig"], validate=True)
            except ValueError:
                signature = b""
            if not keys.verify_signature(public_pem, signed_bytes(checkpoint), signature):
                entry.problems.append(f"{entry.label}: bad signature")
        if checkpoint.get("tst"):
            entry.timestamp = tsa.check_token(checkpoint["tst"], stamped_bytes(checkpoint),
                                              tsa_roots)
            if not entry.timestamp.ok:
                entry.problems.append(f"{entry.label}: timestamp: {entry.timestamp.problem}")
            elif entry.timestamp.trusted is False:
                entry.problems.append(f"{entry.label}: timestamp by an untrusted TSA "
                                      f"({entry.timestamp.tsa})")
            elif not _close_in_time(checkpoint.get("at"), entry.timestamp.at):
                # A checkpoint rewritten later cannot get a timestamp of its stated time.
                entry.problems.append(f"{entry.label}: timestamped at {entry.timestamp.at}, "
                                      "not at the time it states")
        result.append(entry)
    return result


TIMESTAMP_TOLERANCE_SECONDS = 600  # the TSA's answer may take a while, clocks drift


def _close_in_time(stated: str | None, stamped: str | None) -> bool:
    try:
        delta = datetime.fromisoformat(stamped) - datetime.fromisoformat(stated)
    except (TypeError, ValueError):
        return False
    return abs(delta.total_seconds()) <= TIMESTAMP_TOLERANCE_SECONDS


def compare_with_chain(checkpoints: list[CheckpointLine], hashes: dict[int, str],
                       entries: int) -> list[str]:
    """Each checkpoint's entry must be in the chain with the checkpoint's hash.

    ``hashes`` maps seq to hash for (at least) every checkpointed seq the chain holds;
    ``entries`` is the chain's last seq.
    """
    problems = []
    for line in checkpoints:
        if line.checkpoint is None:
            continue
        seq, expected = line.checkpoint["seq"], line.checkpoint["hash"]
        if seq > entries:
            problems.append(f"{line.label}: the chain ends at entry {entries}, before the "
                            f"checkpointed entry {seq}: entries were cut from the end")
        elif hashes.get(seq) != expected:
            problems.append(f"{line.label}: entry {seq} no longer has the checkpointed hash "
                            f"(history rewritten up to entry {seq})")
    return problems

