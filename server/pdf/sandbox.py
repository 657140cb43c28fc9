"""Run PyMuPDF on untrusted files in a separate, resource-limited process.

A hostile PDF can make MuPDF allocate gigabytes (a decompression bomb), spin
for minutes, or crash. Running it in the server process would stall every
tablet (the server is one eventlet process) or take it down. So each job runs
as ``python -m server.pdf.sandbox``: the child first limits its own address
space, CPU time, file size and core dumps, then reads one JSON request on
stdin and answers with JSON lines on stdout: ``{"progress": n}`` while it
works, then ``{"ok": result}`` or ``{"error": {"code", "message"}}``. The
parent also kills the child after a wall-clock time-out. Under eventlet the
pipes are green, so waiting for the child does not block other requests.
"""
from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class SandboxError(Exception):
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


def run(op: str, request: dict, *, memory_mb: int, cpu_seconds: int, wall_seconds: float,
        on_progress=None) -> dict:
    """Run one job in a child process; returns its result or raises ``SandboxError``."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT),
           "PYTHONDONTWRITEBYTECODE": "1", "LANG": "C.UTF-8"}
    payload = json.dumps({"op": op, "memory_mb": memory_mb, "cpu_seconds": cpu_seconds,
                          "request": request})
    process = subprocess.Popen(
        [sys.executable, "-m", "server.pdf.sandbox"], cwd=str(ROOT), env=env,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: a kill takes Tesseract with it
    )
    timed_out = threading.Event()

    def _kill():
        timed_out.set()
        _kill_group(process)

    timer = threading.Timer(wall_seconds, _kill)
    timer.daemon = True
    timer.start()
    final = None
    try:
        process.stdin.write(payload.encode())
        process.stdin.close()
        for line in process.stdout:
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if "progress" in message and on_progress is not None:
                on_progress(message["progress"])
            elif "ok" in message or "error" in message:
                final = message
        process.wait()
    finally:
        timer.cancel()
        if process.poll() is None:
            _kill_group(process)
            process.wait()
    if final is not None and "ok" in final:
        return final["ok"]
    if final is not None:
        raise SandboxError(final["error"]["code"], final["error"]["message"])
    if timed_out.is_set() or process.returncode in (-signal.SIGXCPU, -signal.SIGKILL):
        raise SandboxError("pdf_too_slow", "Processing the PDF took too long; it was stopped.")
    raise SandboxError("pdf_too_complex",
                       f"Processing the PDF failed (exit status {process.returncode}).")


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        process.kill()


def _limit_self(memory_mb: int, cpu_seconds: int) -> None:
    memory = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 5))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    fsize = 4 * 1024 * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
    os.nice(5)  # tablets' requests first


def _emit(message: dict) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def _inspect(request: dict) -> dict:
    from server.pdf import render, validate
    from server.services.documents.storage import sha256_file

    import pymupdf

    pymupdf.TOOLS.mupdf_display_errors(False)
    pymupdf.TOOLS.mupdf_display_warnings(False)
    limits = validate.Limits(**request["limits"])
    source, out = Path(request["path"]), Path(request["out_path"])
    result = validate.inspect(source, out, limits)
    stored = out if result["rewritten"] else source
    result["sha256"] = sha256_file(stored)
    result["stored_path"] = str(stored)
    first = list(range(1, min(result["page_count"], request.get("first_pages", 0)) + 1))
    if first:
        doc = pymupdf.open(stored, filetype="pdf")
        render.render_into_cache(doc, Path(request["data_dir"]), result["sha256"], first,
                                 render.ALL_VARIANTS)
    result["pages_rendered"] = len(first)
    return result


def _render(request: dict) -> dict:
    from server.pdf import render

    import pymupdf

    pymupdf.TOOLS.mupdf_display_errors(False)
    pymupdf.TOOLS.mupdf_display_warnings(False)
    doc = pymupdf.open(request["path"], filetype="pdf")
    variants = [tuple(variant) for variant in request["variants"]]
    failed = render.render_into_cache(
        doc, Path(request["data_dir"]), request["sha256"], request["pages"], variants,
        progress=lambda number: _emit({"progress": number}),
    )
    return {"failed": failed}


def _ocr(request: dict) -> dict:
    """Text for scanned pages; one ``{"progress": {page, status, text, error}}`` line per page."""
    from server.pdf import ocr

    import pymupdf

    pymupdf.TOOLS.mupdf_display_errors(False)
    pymupdf.TOOLS.mupdf_display_warnings(False)
    ocr.ocr_pages(Path(request["path"]), request["pages"], Path(request["workdir"]),
                  request["languages"], request["page_seconds"], request["max_megapixels"],
                  request["max_text_chars"],
                  progress=lambda result: _emit({"progress": result}))
    return {"pages": len(request["pages"])}


def main() -> None:
    job = json.loads(sys.stdin.read())
    _limit_self(job["memory_mb"], job["cpu_seconds"])
    from server.pdf.validate import Refused

    try:
        handler = {"inspect": _inspect, "render": _render, "ocr": _ocr}[job["op"]]
        _emit({"ok": handler(job["request"])})
    except Refused as exc:
        _emit({"error": {"code": exc.code, "message": exc.message}})
    except MemoryError:
        _emit({"error": {"code": "pdf_too_complex",
                         "message": "The PDF needs more memory than allowed (a decompression bomb?)."}})
    except Exception as exc:  # anything MuPDF raises on a damaged file
        text = str(exc)
        memory = any(word in text.lower() for word in ("alloc", "memory", "bomb"))
        code = "pdf_too_complex" if memory else "invalid_pdf"
        _emit({"error": {"code": code, "message": f"The PDF cannot be processed: {text[:300]}"}})


if __name__ == "__main__":
    main()
