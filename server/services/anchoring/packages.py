"""Audit checkpoints in an archive package, and checking them with nothing but the package.

``record/checkpoints.jsonl`` holds the checkpoints of the package's stretch of the chain
(the finalisation's and the seal's at least), ``record/audit-key.pem`` the audit public key.
"""
from __future__ import annotations

import json
from pathlib import Path

from server.services.anchoring import keys
from server.services.anchoring.checkpoints import (
    checkpoint_path, compare_with_chain, read_checkpoints,
)

PACKAGE_CHECKPOINTS = "checkpoints.jsonl"
PACKAGE_KEY = "audit-key.pem"


def write_into_package(record_dir: Path, first_seq: int, last_seq: int) -> int:
    """Copy the checkpoints of entries ``first_seq..last_seq`` (the package's stretch of the
    chain) and the audit public key into a package's ``record/`` directory; returns how many."""
    path = checkpoint_path()
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines() if path.is_file() \
        else []
    kept = []
    for line in lines:
        try:
            seq = json.loads(line).get("seq")
        except (ValueError, AttributeError):
            continue
        if isinstance(seq, int) and first_seq <= seq <= last_seq:
            kept.append(line + "\n")
    record_dir.mkdir(parents=True, exist_ok=True)
    if kept:  # none for a meeting sealed before checkpoints existed: verify notes that
        (record_dir / PACKAGE_CHECKPOINTS).write_text("".join(kept), encoding="utf-8")
    key_path = keys.public_key_path()
    if key_path.is_file():
        (record_dir / PACKAGE_KEY).write_bytes(key_path.read_bytes())
    return len(kept)


def check_package(record_dir: Path, segment: list[dict], stated_head: str | None,
                  public_pem: bytes | None = None) -> tuple[list[str], list[str]]:
    """A package's checkpoints against its own stretch of the chain: (problems, notes).

    Each checkpoint must be signed by the audit key (``public_pem``, else the key inside the
    package, which proves consistency, not whose key it is) and state the hash the package's
    entry of that seq has; the head the signed minutes state must come at or before a
    checkpoint, so the minutes' record is anchored."""
    path = record_dir / PACKAGE_CHECKPOINTS
    if not path.is_file():
        return [], ["the package holds no audit checkpoints (its meeting was sealed or "
                    "exported before they existed?): its chain is not anchored"]
    notes = []
    if public_pem is None and (record_dir / PACKAGE_KEY).is_file():
        public_pem = (record_dir / PACKAGE_KEY).read_bytes()
        notes.append("audit key: the one inside the package (compare its id with the "
                     "deployment's: `hemicycle audit key`)")
    checked = read_checkpoints(path.read_text(encoding="utf-8").splitlines(), public_pem)
    problems = [p for line in checked for p in line.problems]
    hashes = {entry["seq"]: entry["hash"] for entry in segment}
    last = max(hashes) if hashes else 0
    problems.extend(compare_with_chain(checked, hashes, last))
    stated_seq = next((e["seq"] for e in segment if e["hash"] == stated_head), None)
    anchored = [line for line in checked if line.checkpoint is not None
                and stated_seq is not None and line.checkpoint["seq"] >= stated_seq]
    if not checked:
        problems.append("the package's checkpoint file is empty: its chain is not anchored")
    elif stated_seq is not None and not anchored:
        problems.append("no checkpoint in the package comes after the audit head the minutes "
                        "state")
    else:
        notes.append(f"audit checkpoints: {len(checked)} in the package, the chain matches")
    return problems, notes
