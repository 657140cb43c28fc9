"""HEMICYCLE_LOG_FORMAT on a real ``hemicycle serve``: JSON lines for a log collector with
``json``, the plain text lines without it, and a bad value refused before serving."""
from __future__ import annotations

import json
import logging
import sys

import pytest

from tests.live import LiveServer, hemicycle
from server.monitoring.logs import JsonFormatter

pytestmark = pytest.mark.live


def json_lines(text: str) -> list[dict]:
    entries = []
    for line in text.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict):
            entries.append(entry)
    return entries


def serve_and_stop(tmp_path, env: dict) -> str:
    server = LiveServer(tmp_path / "data", f"sqlite:///{tmp_path / 'live.db'}", env=env)
    with server:
        pass
    return server.log_path.read_text()


def test_json_format_writes_one_object_a_line(tmp_path):
    log = serve_and_stop(tmp_path, {"HEMICYCLE_LOG_FORMAT": "json"})
    lines = [line for line in log.splitlines() if line.strip()]
    entries = json_lines(log)
    assert lines and len(entries) == len(lines), log
    for entry in entries:
        assert {"time", "level", "logger", "message"} <= entry.keys(), entry
        assert entry["time"].endswith("+00:00")
    started = [e for e in entries if e["message"].startswith("Hemicycle on http://127.0.0.1:")]
    assert started and started[0]["logger"] == "server.cli.serve", log
    assert started[0]["level"] == "INFO"


def test_text_format_is_the_default(tmp_path):
    log = serve_and_stop(tmp_path, {"HEMICYCLE_LOG_FORMAT": ""})
    assert "Hemicycle on http://127.0.0.1:" in log, log
    assert json_lines(log) == [], log


def test_bad_log_format_is_refused_at_start(tmp_path):
    server = LiveServer(tmp_path / "data", f"sqlite:///{tmp_path / 'live.db'}",
                        env={"HEMICYCLE_LOG_FORMAT": "xml"})
    result = hemicycle(server.env(), "serve", "--port", server.port)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "HEMICYCLE_LOG_FORMAT must be one of text, json, not 'xml'" in output, output
    assert "Traceback" not in output, output


def test_json_entry_carries_the_exception_text():
    try:
        raise RuntimeError("the disk is full")
    except RuntimeError:
        record = logging.LogRecord("server.x", logging.ERROR, __file__, 1, "writing %s failed",
                                   ("page 3",), sys.exc_info())
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "writing page 3 failed" and entry["level"] == "ERROR"
    assert "RuntimeError: the disk is full" in entry["exception"]
    assert entry["exception"].startswith("Traceback")
