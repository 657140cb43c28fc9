"""Serving pages: images (clean or watermarked), text and the PDF; background rendering.

Page images come from the render cache, keyed by (blob sha256, page, size,
format): the first pages are rendered while the upload is validated, the rest
by a background task started after the commit, which tells tablets how far it
got with coalesced ``document.rendered`` events. An image asked for before the
background task reached it is rendered on demand, in the sandbox as well.
"""
from __future__ import annotations

import base64
import hashlib
import logging
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app

from server.errors import HemicycleError, NotFound
from server.extensions import db, socketio
from server.models import Document, DocumentVersion, Meeting, utcnow
from server.monitoring import metrics
from server.pdf import fingerprint, render, sandbox, watermark
from server.services import events
from server.services.documents import ocr, storage
from server.services.actors import Actor
from server.services.documents.access import (
    Found, ReadRight, audiences, readable, readable_document, require_pdf, watermark_lines,
)
from server.services.documents.ingest import limits

log = logging.getLogger(__name__)
PROGRESS_EVERY_SECONDS = 1.0


@dataclass
class PagePlan:
    """A page image the actor may have, located but not produced yet. It holds the rows the
    access decision loaded, so producing the image loads nothing again."""

    version: DocumentVersion
    page: int
    size: str
    ext: str
    right: ReadRight
    meeting: Meeting
    document: Document
    etag: str | None = field(init=False)  # None: per reader and per minute, never cached

    def __post_init__(self) -> None:
        self.etag = None if self.right.watermark else render.etag_for(
            self.version.blob_sha256, self.page, self.size, self.ext)

    @property
    def mimetype(self) -> str:
        return render.FORMATS[self.ext]

    @property
    def cacheable(self) -> bool:
        """A clean page of a non-confidential document: the same bytes for every reader,
        for ever."""
        return self.etag is not None and not self.document.confidential


def plan_page(actor: Actor | None, document_id: int, number: int, page: int, size: str,
              ext: str, found: Found | None = None) -> PagePlan:
    """Check access and that the page exists; the image itself comes from ``page_bytes``.
    ``found``: the rows already loaded with the bearer token (``reading_for_token``)."""
    reading = readable(actor, document_id, number, found)
    version = reading.version
    if ext not in render.FORMATS or size not in render.SIZES or not 1 <= page <= version.page_count:
        raise NotFound("No such page.")
    return PagePlan(version, page, size, ext, reading.right, reading.meeting, reading.document)


_render_locks: dict[Path, threading.Lock] = defaultdict(threading.Lock)


def cached_variant(version: DocumentVersion, page: int, size: str, ext: str) -> Path:
    """The cached image file, rendered on demand (in the sandbox) when it is missing."""
    data_dir = Path(current_app.config["DATA_DIR"])
    target = render.cache_path(data_dir, version.blob_sha256, page, size, ext)
    if target.exists():
        return target
    # Tablets following the presenter ask for the same missing page at once: one renders,
    # the others wait for it (the lock is green under eventlet).
    with _render_locks[target]:
        try:
            if not target.exists():
                _render_on_demand(version, page, [(size, ext)], data_dir)
        finally:
            _render_locks.pop(target, None)
    if not target.exists():
        raise HemicycleError("This page cannot be drawn; the file may be damaged.",
                             code="page_unrenderable", status=422)
    return target


def _cached_bytes(version: DocumentVersion, page: int, size: str, ext: str) -> bytes:
    """The cached image's bytes: one open and read when it is there (the usual case),
    ``cached_variant`` when it is not."""
    target = render.cache_path(Path(current_app.config["DATA_DIR"]), version.blob_sha256,
                               page, size, ext)
    try:
        return target.read_bytes()
    except FileNotFoundError:
        return cached_variant(version, page, size, ext).read_bytes()


def _render_on_demand(version: DocumentVersion, page: int, variants, data_dir: Path) -> None:
    try:
        sandbox.run("render", {"path": str(storage.blob_path(version.blob_sha256)),
                               "sha256": version.blob_sha256, "data_dir": str(data_dir),
                               "pages": [page], "variants": variants},
                    memory_mb=limits().memory_mb, cpu_seconds=60, wall_seconds=90)
    except sandbox.SandboxError as exc:
        log.warning("page %s of version %s cannot be rendered: %s", page, version.id, exc)


def page_bytes(plan: PagePlan) -> bytes:
    """The image: the cached file, or for a watermarked page a fresh per-reader stamp on
    the cached JPEG."""
    if not plan.right.watermark:
        return _cached_bytes(plan.version, plan.page, plan.size, plan.ext)
    master = _cached_bytes(plan.version, plan.page, plan.size, "jpg")
    lines = watermark_lines(plan.right, plan.meeting, utcnow(),
                            current_app.config.get("TIMEZONE", "Asia/Ho_Chi_Minh"))
    seed = None
    if current_app.config.get("READER_FINGERPRINT"):
        seed = fingerprint.key_for(current_app.config["SECRET_KEY"],
                                   mark_key(plan.right.mark, plan.version.id, plan.page))
    return watermark.offload(watermark.stamp, master, lines, plan.ext, seed)


def mark_key(reader_mark: str, version_id: int, page: int) -> str:
    """What one copy's invisible mark is keyed by: the reader, the version and the page
    (``server.services.documents.leaks`` tries these to name a leak's reader)."""
    return f"{reader_mark}:{version_id}:{page}"


def accel_redirect(plan: PagePlan) -> str | None:
    """Where nginx finds the image (the ``X-Accel-Redirect`` path) when the deployment lets
    nginx serve the page cache (``ACCEL_REDIRECT``) and the image is a file the same for
    every reader: the worker has checked the right, nginx streams the bytes. A watermarked
    page is made for its reader and never a file: None, the worker streams it."""
    prefix = current_app.config.get("ACCEL_REDIRECT")
    if not prefix or plan.right.watermark:
        return None
    path = cached_variant(plan.version, plan.page, plan.size, plan.ext)
    return prefix + path.relative_to(render.cache_root(Path(current_app.config["DATA_DIR"]))).as_posix()


def shared_pages(actor: Actor | None, document_id: int, number: int,
                 found: Found | None = None) -> dict:
    """Whether ``actor`` may have the version's page images as the cached files, the same
    for every reader: ``{"X-Hemicycle-Pages": <the version's folder in the page cache>,
    "cacheable": bool}``, or ``{}`` when their pages are watermarked for them. NotFound
    (or NotAuthenticated) as for a page."""
    reading = readable(actor, document_id, number, found)
    if reading.right.watermark:
        return {}
    folder = render.cache_folder(reading.version.blob_sha256)
    headers = {"X-Hemicycle-Pages": folder, "cacheable": not reading.document.confidential}
    secret = current_app.config.get("PAGE_LINK_SECRET")
    if secret and not reading.document.confidential:
        headers["X-Hemicycle-Page-Link"] = page_link(
            document_id, number, folder, secret, current_app.config["PAGE_LINK_SECONDS"])
    return headers


def page_link(document_id: int, number: int, folder: str, secret: str, seconds: int,
              now: float | None = None) -> str:
    """The query a reader adds to the version's page URLs so that nginx's ``secure_link``
    sends the files without asking a worker, until the link expires (docs/DEPLOYMENT.md,
    "Page images"): ``pf`` the version's folder in the page cache, ``pe`` the expiry (Unix
    time), ``pl`` nginx's MD5 of ``<pe><document>/<version>/<pf> <secret>``, base64url.
    Only for versions whose pages are the same file for every reader and not
    confidential: the link is a capability to those files, whoever holds it."""
    expires = int(now if now is not None else time.time()) + seconds
    signed = f"{expires}{document_id}/{number}/{folder} {secret}".encode()
    digest = base64.urlsafe_b64encode(hashlib.md5(signed).digest()).rstrip(b"=").decode()
    return f"pf={folder}&pe={expires}&pl={digest}"


def page_text(actor: Actor | None, document_id: int, number: int, page: int) -> str:
    document, version, right = readable_document(actor, document_id, number)
    require_pdf(right)
    if not 1 <= page <= version.page_count:
        raise NotFound("No such page.")
    return version.pages[page - 1].text


def pdf_file(actor: Actor | None, document_id: int, number: int) -> tuple[Path, DocumentVersion]:
    document, version, right = readable_document(actor, document_id, number)
    require_pdf(right)
    return storage.blob_path(version.blob_sha256), version


def schedule_render(version_id: int) -> None:
    """Render the remaining pages after the upload's commit, then read the scanned ones
    (``ocr.recognise_pending``): in the background, or inline when
    ``DOCUMENT_RENDER_INLINE`` is set (tests, the CLI)."""
    app = current_app._get_current_object()
    if app.config.get("DOCUMENT_RENDER_INLINE"):
        _render_remaining(version_id)
        ocr.recognise_pending(version_id)
    else:
        socketio.start_background_task(render_remaining, app, version_id)


@metrics.RENDERS_IN_PROGRESS.track_inprogress()
def render_remaining(app, version_id: int) -> None:
    """The background task: its own app context and database session."""
    with app.app_context():
        try:
            _render_remaining(version_id)
        except Exception:  # a background task has nobody to answer to but the log
            log.exception("rendering version %s failed", version_id)
            db.session.rollback()
        try:  # after the images: a tablet shows pages first, text for search can wait
            ocr.recognise_pending(version_id)
        except Exception:
            log.exception("OCR of version %s failed", version_id)
        finally:
            db.session.remove()


def _render_remaining(version_id: int) -> None:
    version = db.session.get(DocumentVersion, version_id)
    if version is None:
        return
    data_dir = Path(current_app.config["DATA_DIR"])

    def ready(number: int, variants=render.FIRST_PASS) -> bool:
        return all(render.cache_path(data_dir, version.blob_sha256, number, size, ext).exists()
                   for size, ext in variants)

    todo = [n for n in range(1, version.page_count + 1) if not ready(n)]
    state = {"done": version.page_count - len(todo), "published": -1, "at": 0.0}

    def report(force: bool = False) -> None:
        now = time.monotonic()
        if state["done"] == state["published"]:
            return
        if not force and now - state["at"] < PROGRESS_EVERY_SECONDS:
            return
        version.pages_rendered = state["done"]
        payload = {"document_id": version.document_id, "version_id": version.id,
                   "pages_rendered": state["done"], "page_count": version.page_count}
        for audience in audiences(version.document):
            events.publish(version.document.meeting_id, "document.rendered", payload, audience)
        db.session.commit()
        state["published"], state["at"] = state["done"], now

    def progress(_number: int) -> None:
        state["done"] += 1
        report()

    # Tablets' images first, with progress events; then the large PNGs, quietly.
    _render_pass(version, todo, render.FIRST_PASS, data_dir, progress)
    state["done"] = sum(1 for n in range(1, version.page_count + 1) if ready(n))
    report(force=True)
    rest = [n for n in range(1, version.page_count + 1) if not ready(n, render.SECOND_PASS)]
    _render_pass(version, rest, render.SECOND_PASS, data_dir, None)


def _render_pass(version: DocumentVersion, pages: list[int], variants, data_dir: Path,
                 progress) -> None:
    if not pages:
        return
    cpu = min(60 + 2 * len(pages), 3600)
    try:
        sandbox.run("render", {"path": str(storage.blob_path(version.blob_sha256)),
                               "sha256": version.blob_sha256, "data_dir": str(data_dir),
                               "pages": pages, "variants": variants},
                    memory_mb=limits().memory_mb, cpu_seconds=cpu, wall_seconds=2 * cpu,
                    on_progress=progress)
    except sandbox.SandboxError as exc:
        log.warning("rendering version %s stopped: %s", version.id, exc)
