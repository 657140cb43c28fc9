"""Serving pages: images (clean or watermarked), text and the PDF; background rendering.

Page images come from the render cache, keyed by (blob sha256, page, size):
the first pages are rendered while the upload is validated, the rest by a
background task started after the commit, which tells tablets how far it got
with coalesced ``document.rendered`` events. A page asked for before the
background task reached it is rendered on demand, in the sandbox as well.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from server.errors import HemicycleError, NotFound
from server.extensions import db, socketio
from server.models import DocumentVersion, Meeting, utcnow
from server.pdf import render, sandbox, watermark
from server.services import events, storage
from server.services.actors import Actor
from server.services.document_access import (
    ReadRight, audiences, readable_document, require_pdf, watermark_lines,
)
from server.services.document_ingest import limits

log = logging.getLogger(__name__)
PROGRESS_EVERY_SECONDS = 1.0


@dataclass
class PagePlan:
    """A page image the actor may have, located but not produced yet."""

    version: DocumentVersion
    page: int
    size: str
    ext: str
    right: ReadRight
    meeting: Meeting

    @property
    def etag(self) -> str | None:
        if self.right.watermark:
            return None  # per reader and per minute: never cached by anyone
        return render.etag_for(self.version.blob_sha256, self.page, self.size, self.ext)

    @property
    def mimetype(self) -> str:
        return render.FORMATS[self.ext]


def plan_page(actor: Actor | None, document_id: int, number: int, page: int, size: str,
              ext: str) -> PagePlan:
    """Check access and that the page exists; the image itself comes from ``page_bytes``."""
    document, version, right = readable_document(actor, document_id, number)
    if ext not in render.FORMATS or not 1 <= page <= version.page_count:
        raise NotFound("No such page.")
    meeting = db.session.get(Meeting, document.meeting_id)
    return PagePlan(version, page, size, ext, right, meeting)


def _master(version: DocumentVersion, page: int, size: str) -> Path:
    data_dir = Path(current_app.config["DATA_DIR"])
    target = render.cache_path(data_dir, version.blob_sha256, page, size)
    if not target.exists():
        lim = limits()
        try:
            result = sandbox.run(
                "render",
                {"path": str(storage.blob_path(version.blob_sha256)), "sha256": version.blob_sha256,
                 "data_dir": str(data_dir), "pages": [page], "sizes": [size]},
                memory_mb=lim.memory_mb, cpu_seconds=60, wall_seconds=90,
            )
        except sandbox.SandboxError as exc:
            result = {"failed": [page], "error": str(exc)}
        if result["failed"] or not target.exists():
            raise HemicycleError("This page cannot be drawn; the file may be damaged.",
                                 code="page_unrenderable", status=422)
    return target


def page_bytes(plan: PagePlan) -> bytes:
    """The image: cached bytes, a cached JPEG variant, or a fresh per-reader stamp."""
    master = _master(plan.version, plan.page, plan.size)
    if plan.right.watermark:
        lines = watermark_lines(plan.right, plan.meeting, utcnow())
        return watermark.offload(watermark.stamp, master.read_bytes(), lines, plan.ext)
    if plan.ext == "png":
        return master.read_bytes()
    variant = master.with_suffix(".jpg")
    if not variant.exists():
        storage.atomic_write(variant, watermark.offload(watermark.to_jpeg, master.read_bytes()))
    return variant.read_bytes()


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
    """Render the remaining pages after the upload's commit: in the background, or inline
    when ``DOCUMENT_RENDER_INLINE`` is set (tests, the CLI)."""
    app = current_app._get_current_object()
    if app.config.get("DOCUMENT_RENDER_INLINE"):
        _render_remaining(version_id)
    else:
        socketio.start_background_task(render_remaining, app, version_id)


def render_remaining(app, version_id: int) -> None:
    """The background task: its own app context and database session."""
    with app.app_context():
        try:
            _render_remaining(version_id)
        except Exception:  # a background task has nobody to answer to but the log
            log.exception("rendering version %s failed", version_id)
        finally:
            db.session.remove()


def _render_remaining(version_id: int) -> None:
    version = db.session.get(DocumentVersion, version_id)
    if version is None:
        return
    data_dir = Path(current_app.config["DATA_DIR"])
    sizes = list(render.SIZES)

    def cached(number: int) -> bool:
        return all(render.cache_path(data_dir, version.blob_sha256, number, s).exists() for s in sizes)

    todo = [n for n in range(1, version.page_count + 1) if not cached(n)]
    done = version.page_count - len(todo)
    state = {"done": done, "published": -1, "at": 0.0}

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

    if todo:
        lim = limits()
        cpu = min(60 + 2 * len(todo), 3600)
        try:
            sandbox.run("render", {"path": str(storage.blob_path(version.blob_sha256)),
                                   "sha256": version.blob_sha256, "data_dir": str(data_dir),
                                   "pages": todo, "sizes": sizes},
                        memory_mb=lim.memory_mb, cpu_seconds=cpu, wall_seconds=2 * cpu,
                        on_progress=progress)
        except sandbox.SandboxError as exc:
            log.warning("rendering version %s stopped: %s", version_id, exc)
    state["done"] = sum(1 for n in range(1, version.page_count + 1) if cached(n))
    report(force=True)
