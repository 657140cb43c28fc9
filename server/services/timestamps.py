"""Times as the API and the protocol write them: ISO 8601, or None for a time not set yet.

Core, beside audit and events: sessions, the floor, attendance, devices, annotations and polls
all answer times, so the one helper lives below every capability package.
"""
from __future__ import annotations

from datetime import datetime


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
