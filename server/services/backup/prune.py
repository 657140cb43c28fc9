"""Retention: keep the newest backups of a directory, remove the rest.

"Newest" is by modification time, then name (the timer's names carry the date), so a
clock that stepped back still keeps the right ones on most days. Only regular files that
match the pattern are considered; half-written temporaries (``.name.*.tmp``) never match.
"""
from __future__ import annotations

from pathlib import Path


def prune(directory: Path, pattern: str, keep: int) -> list[Path]:
    if keep < 1:
        raise ValueError("keep at least one backup")
    backups = [p for p in Path(directory).glob(pattern)
               if p.is_file() and not p.is_symlink() and not p.name.startswith(".")]
    backups.sort(key=lambda p: (p.stat().st_mtime, p.name), reverse=True)
    removed = backups[keep:]
    for path in removed:
        path.unlink()
    return removed
