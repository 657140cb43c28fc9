"""From an uploaded file to a validated, stored PDF blob.

Order matters for "refused changes nothing": the file is checked in the
sandbox first; only an accepted file is copied into the blob store, and a
blob file created in a transaction that then rolls back is removed again.
"""
from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.errors import HemicycleError, InvalidInput
from server.extensions import db
from server.models import Blob
from server.pdf import sandbox
from server.pdf.validate import Limits, has_pdf_magic
from server.services.documents import storage

log = logging.getLogger(__name__)
OFFICE_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "doc": "application/msword",
    "odt": "application/vnd.oasis.opendocument.text",
    "rtf": "application/rtf",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "ppt": "application/vnd.ms-powerpoint",
    "odp": "application/vnd.oasis.opendocument.presentation",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
}
_NEW_FILES_KEY = "hemicycle.new_blob_files"


@dataclass
class Upload:
    """An uploaded file already on disk (the API streams it to a temporary file)."""

    path: Path
    filename: str


@dataclass
class Ingested:
    sha256: str
    filename: str
    page_count: int
    pages: list[dict]
    pages_rendered: int
    repaired: bool = False
    javascript_removed: int = 0
    source_sha256: str | None = None
    notices: dict = field(default_factory=dict)


def save_upload(file) -> Upload:
    """Stream an uploaded file (a werkzeug ``FileStorage``) to a temporary file in the data
    directory; the caller removes ``upload.path`` when done."""
    fd, path = tempfile.mkstemp(dir=storage.temp_dir(), prefix="upload-")
    os.close(fd)
    try:
        file.save(path)
    except BaseException:
        Path(path).unlink(missing_ok=True)
        raise
    return Upload(path=Path(path), filename=file.filename or "")


def limits() -> Limits:
    return Limits.from_config(current_app.config)


def soffice_path() -> str | None:
    configured = current_app.config.get("SOFFICE_PATH")
    return configured if configured is not None else shutil.which("soffice")


def _refuse(code: str, message: str, status: int = 422) -> HemicycleError:
    return HemicycleError(message, code=code, status=status)


def _convert_office(source: Path, workdir: Path, lim: Limits) -> Path:
    soffice = soffice_path()
    if not soffice:
        raise _refuse("conversion_unavailable",
                      "Office files cannot be converted on this server (LibreOffice is not "
                      "installed). Export the file as PDF and upload the PDF.", 415)
    profile = workdir / "profile"
    try:
        subprocess.run(
            [soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
             "--convert-to", "pdf", "--outdir", str(workdir / "out"), str(source)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            timeout=lim.wall_seconds, check=False,
        )
    except subprocess.TimeoutExpired:
        raise _refuse("conversion_failed", "Converting the file to PDF took too long.") from None
    produced = list((workdir / "out").glob("*.pdf"))
    if not produced:
        raise _refuse("conversion_failed", "LibreOffice could not convert the file to PDF.")
    return produced[0]


def _store(path: Path, media_type: str) -> str:
    sha, size, created = storage.put_file(path)
    if created:
        db.session.info.setdefault(_NEW_FILES_KEY, []).append(sha)
    if db.session.get(Blob, sha) is None:
        try:  # the same file may be committed by another upload at this very moment
            with db.session.begin_nested():
                db.session.add(Blob(sha256=sha, size=size, media_type=media_type))
        except IntegrityError:
            pass
    return sha


def ingest(upload: Upload) -> Ingested:
    """Validate the upload and store it; raises a 4xx HemicycleError when refused."""
    lim = limits()
    filename = storage.safe_filename(upload.filename)
    size = upload.path.stat().st_size
    if size > lim.max_bytes:
        raise _refuse("file_too_large", f"The file is larger than {lim.max_bytes // 2**20} MB.", 413)
    if size == 0:
        raise InvalidInput("The file is empty.", code="empty_file")
    with open(upload.path, "rb") as handle:
        head = handle.read(1024)
    extension = filename.rpartition(".")[2].lower() if "." in filename else ""
    workdir = Path(tempfile.mkdtemp(dir=storage.temp_dir(), prefix="ingest-"))
    try:
        pdf_path, source_type = upload.path, None
        if not has_pdf_magic(head):
            if extension in OFFICE_TYPES:
                pdf_path, source_type = _convert_office(upload.path, workdir, lim), OFFICE_TYPES[extension]
            elif extension == "pdf" or not extension:
                raise InvalidInput("The file is not a PDF.", code="not_a_pdf")
            else:
                raise _refuse("unsupported_file_type",
                              "Upload a PDF (or an office document where conversion is available).",
                              415)
        try:
            result = sandbox.run(
                "inspect",
                {"path": str(pdf_path), "out_path": str(workdir / "clean.pdf"),
                 "limits": lim.as_dict(), "data_dir": str(current_app.config["DATA_DIR"]),
                 "first_pages": int(current_app.config.get("DOCUMENT_FIRST_PAGES", 3))},
                memory_mb=lim.memory_mb, cpu_seconds=lim.cpu_seconds, wall_seconds=lim.wall_seconds,
            )
        except sandbox.SandboxError as exc:
            raise _refuse(exc.code, exc.message, 413 if exc.code == "file_too_large" else 422) from None
        sha = _store(Path(result["stored_path"]), "application/pdf")
        source_sha = _store(upload.path, source_type) if source_type else None
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if source_type or extension != "pdf":  # downloaded as what it is: "x.html" would open as HTML
        filename = (filename.rpartition(".")[0] if extension else filename) + ".pdf"
    return Ingested(sha256=sha, filename=filename, page_count=result["page_count"],
                    pages=result["pages"], pages_rendered=result["pages_rendered"],
                    repaired=result["repaired"], javascript_removed=result["javascript_removed"],
                    source_sha256=source_sha)


@event.listens_for(Session, "after_commit")
def _keep_new_files(session: Session) -> None:
    if not session.in_nested_transaction():  # a savepoint's end settles nothing
        session.info.pop(_NEW_FILES_KEY, None)


@event.listens_for(Session, "after_rollback")
def _remove_new_files(session: Session) -> None:
    if session.in_nested_transaction():
        return
    for sha in session.info.pop(_NEW_FILES_KEY, []):
        log.info("removing blob %s: its transaction was rolled back", sha)
        storage.remove_blob_file(sha)
