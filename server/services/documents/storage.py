"""Content-addressed blob storage and safe upload file names.

A blob lives at ``DATA_DIR/blobs/ab/cdef…`` named by the sha256 of its bytes,
so the same file uploaded twice is stored once. Files are written to a
temporary name in the same directory, flushed to disk, then renamed: a reader
never sees half a file, and a crash leaves at most a ``.tmp-*`` file that
``remove_stale_temporaries`` cleans up.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import unicodedata
from pathlib import Path

from flask import current_app

from server.files import atomic_write  # noqa: F401  (part of this module's API)

CHUNK = 1024 * 1024
MAX_FILENAME_BYTES = 200  # leaves room under the usual 255-byte limit for a suffix
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_RESERVED = re.compile(r'[<>:"/\\|?*]')


def data_dir() -> Path:
    return Path(current_app.config["DATA_DIR"])


def blobs_root(root: Path | None = None) -> Path:
    return (root or data_dir()) / "blobs"


def blob_path(sha256: str, root: Path | None = None) -> Path:
    if not re.fullmatch(r"[0-9a-f]{64}", sha256):
        raise ValueError("not a sha256 hex digest")
    return blobs_root(root) / sha256[:2] / sha256[2:]


def temp_dir(root: Path | None = None) -> Path:
    path = (root or data_dir()) / "tmp"
    path.mkdir(parents=True, exist_ok=True)
    return path


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def put_file(source: Path, root: Path | None = None) -> tuple[str, int, bool]:
    """Store a file by content; returns (sha256, size, created).

    ``created`` is False when identical bytes were already stored: nothing is
    written then.
    """
    sha = sha256_file(source)
    target = blob_path(sha, root)
    if target.exists():
        return sha, target.stat().st_size, False
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as out, open(source, "rb") as src:
            shutil.copyfileobj(src, out, CHUNK)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o640)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return sha, target.stat().st_size, True


def remove_blob_file(sha256: str, root: Path | None = None) -> None:
    blob_path(sha256, root).unlink(missing_ok=True)


def remove_stale_temporaries(root: Path | None = None, older_than: float = 3600) -> int:
    """Delete ``.tmp-*`` leftovers of interrupted writes older than ``older_than`` seconds
    (younger ones may be another worker's write in progress); returns how many."""
    import time

    count, cutoff = 0, time.time() - older_than
    for path in blobs_root(root).glob("*/.tmp-*"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
                count += 1
        except FileNotFoundError:
            pass
    return count


def safe_filename(name: str | None, default: str = "document.pdf") -> str:
    """A display and download name that cannot escape a directory or break a header.

    Keeps the last path component only, drops control and reserved characters,
    NFC-normalises (so Vietnamese letters stay readable and compare equal) and
    trims to ``MAX_FILENAME_BYTES`` of UTF-8 without cutting a character or the
    extension.
    """
    name = unicodedata.normalize("NFC", name or "")
    name = _CONTROL.sub("", name)
    name = re.split(r"[/\\]", name)[-1]
    name = _RESERVED.sub("_", name).strip().strip(".").strip()
    name = re.sub(r"\s+", " ", name)
    if not name:
        return default
    stem, dot, ext = name.rpartition(".")
    if not dot or len(ext) > 10:
        stem, ext = name, ""
    suffix = f".{ext}" if ext else ""
    budget = MAX_FILENAME_BYTES - len(suffix.encode())
    encoded = stem.encode()[:budget]
    stem = encoded.decode("utf-8", errors="ignore").rstrip(" .") or "document"
    return stem + suffix
