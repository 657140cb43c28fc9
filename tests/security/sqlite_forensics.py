"""Reading ballots out of a SQLite database file and its WAL as raw bytes, as an attacker would.

No SQL: the file is read page by page, the way someone holding a copy of the
database (a backup, a stolen disk, a staff member with file access) can read
it with a hex editor. A ballot in clear is carved wherever its bytes are
(live cells, free space, old WAL frames): its choices, followed within a few
bytes by its receipt. Each carved ballot gets the moment it was first written:
its WAL frame (frames are appended in commit order), then its place in the
page (SQLite fills a page's cells from its end towards its start). Ranking
ballots by that moment and pairing them with the voters in the order they
voted (which the audit log, the voter records or the room itself give) is the
attack of the security review; ``linked`` counts the voters it gets right.
"""
from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from pathlib import Path

RECEIPT_CHARS = rb"0-9A-HJKMNP-TV-Z"
_CHOICE = re.compile(rb'\["(yes|no|abstain)"\]')
_RUN = re.compile(rb"[" + RECEIPT_CHARS + rb"]{10,}")


@dataclass(frozen=True)
class Carved:
    receipt: str
    choice: str
    moment: tuple  # (0 for the database file / 1 + frame number in the WAL, page, -offset)


def pages(path: Path) -> list[tuple[tuple, bytes]]:
    """(moment, page bytes) of the database file, then of every frame of its WAL."""
    data = path.read_bytes() if path.exists() else b""
    size = struct.unpack(">H", data[16:18])[0] if len(data) >= 100 else 4096
    size = 65536 if size == 1 else size
    found = [((0, n), data[n * size:(n + 1) * size]) for n in range(len(data) // size)]
    wal = Path(f"{path}-wal")
    raw = wal.read_bytes() if wal.exists() else b""
    if len(raw) >= 32:
        frame_size = struct.unpack(">I", raw[8:12])[0]
        for n, start in enumerate(range(32, len(raw) - 24 - frame_size + 1, 24 + frame_size)):
            page = struct.unpack(">I", raw[start:start + 4])[0]
            found.append(((1 + n, page), raw[start + 24:start + 24 + frame_size]))
    return found


def carve(path: Path) -> list[Carved]:
    """Every ballot in clear in the file and its WAL, once, at the moment it first appears."""
    first: dict[str, Carved] = {}
    for moment, page in pages(path):
        for match in _CHOICE.finditer(page):
            run = _RUN.search(page, match.end(), match.end() + 40)
            if run is None:
                continue
            receipt = run.group()[-10:].decode()  # a weight stored as text may run into it
            seen = Carved(receipt, match.group(1).decode(), (*moment, -match.start()))
            if receipt not in first or seen.moment < first[receipt].moment:
                first[receipt] = seen
    return sorted(first.values(), key=lambda c: c.moment)


def linked(path: Path, receipts: set[str], choices_in_voting_order: list[str]) -> int:
    """How many voters the attack pairs with their own choice: the n-th ballot written (of
    those with ``receipts``: one poll's) taken for the n-th voter's."""
    ballots = [c for c in carve(path) if c.receipt in receipts]
    return sum(1 for ballot, choice in zip(ballots, choices_in_voting_order)
               if ballot.choice == choice)


def contains(path: Path, needle: bytes) -> bool:
    """Whether the bytes are anywhere in the database file or its WAL."""
    return any(needle in Path(p).read_bytes() for p in (path, f"{path}-wal") if Path(p).exists())
