"""The bounded value types every input is built from, and the one check for unstorable text.

Whatever a client sends reaches a column sooner or later, and both backends refuse what
does not fit with an error of their own (SQLite's OverflowError for an integer past 64
bits, PostgreSQL's DataError for one past 32 bits, or for NUL in a string; an encoding
error for a lone surrogate). So every input is bounded here, before any query runs:

- ids are 1..2**31-1 (``Id``), in URLs (the ``int`` converter, server/routing.py), JSON
  bodies, forms and socket payloads alike;
- text has a length (``text()``), and no value anywhere in a request or a socket payload
  may hold NUL or a lone surrogate (``require_storable()``, applied to the whole request by
  server/security.py and to every socket payload by server/realtime/handlers.py);
- times are within ``EARLIEST``..``LATEST``, so date arithmetic cannot overflow.

tests/schemas/test_bounds.py fails on any input field without bounds.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, Field, StringConstraints

from server.errors import InvalidInput

MAX_ID = 2**31 - 1  # PostgreSQL's INTEGER; every id column is one
MAX_COUNT = 2**31 - 1  # any other integer a client may send (positions, seconds, revisions)
EARLIEST = datetime(1900, 1, 1, tzinfo=timezone.utc)
LATEST = datetime(2200, 1, 1, tzinfo=timezone.utc)

Id = Annotated[int, Field(ge=1, le=MAX_ID)]


def text(max_length: int, min_length: int = 0):
    """A string of at most ``max_length`` characters, surrounding whitespace stripped."""
    return Annotated[str, StringConstraints(strip_whitespace=True, min_length=min_length,
                                            max_length=max_length)]


def _in_range(value: datetime) -> datetime:
    if not EARLIEST <= value < LATEST:
        raise ValueError(f"must be between {EARLIEST.year} and {LATEST.year - 1}")
    return value.astimezone(timezone.utc)


def _day_in_range(value: date) -> date:
    if not EARLIEST.date() <= value < LATEST.date():
        raise ValueError(f"must be between {EARLIEST.year} and {LATEST.year - 1}")
    return value


When = Annotated[AwareDatetime, AfterValidator(_in_range)]  # stored in UTC
Day = Annotated[date, AfterValidator(_day_in_range)]


def _bad_text(value: str) -> str | None:
    if "\x00" in value:
        return "must not contain the NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "must be valid Unicode (a lone surrogate was sent)"
    return None


def unstorable(value: Any, path: str = "") -> tuple[str, str] | None:
    """(where, why) for the first string in ``value`` (keys too) that no column can hold."""
    stack = [(path, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            problem = _bad_text(item)
            if problem:
                return where or "body", problem
        elif isinstance(item, dict):
            for key, inner in item.items():
                name = f"{where}.{key}" if where else str(key)
                if isinstance(key, str) and (problem := _bad_text(key)):
                    return name.encode("utf-8", "backslashreplace").decode(), problem
                stack.append((name, inner))
        elif isinstance(item, (list, tuple)):
            stack.extend((f"{where}.{index}" if where else str(index), inner)
                         for index, inner in enumerate(item))
    return None


def require_storable(value: Any) -> None:
    """Refuse (422 ``invalid_characters``) a request or payload with unstorable text."""
    found = unstorable(value)
    if found is not None:
        where, why = found
        raise InvalidInput(f"{where} {why}.", code="invalid_characters", fields={where: why})
