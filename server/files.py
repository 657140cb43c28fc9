"""Writing files so that a reader never sees half of one (no Flask here: the PDF sandbox
imports it too)."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def atomic_write(target: Path, data: bytes, *, durable: bool = True) -> None:
    """Write ``data`` to ``target``: readers see the old file or the whole new one.

    ``durable`` also forces the bytes to disk before the rename (stored originals);
    caches that can be rebuilt skip that cost.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
