"""The bounded ``int`` converter matches exactly 1..MAX_ID (server/routing.py)."""
from __future__ import annotations

import re

import pytest

from server.routing import decimal_range_pattern
from server.schemas.types import MAX_ID


@pytest.mark.parametrize("largest", [1, 7, 9, 10, 99, 100, 305, 1000, 4321])
def test_the_pattern_matches_exactly_one_to_largest(largest):
    pattern = re.compile(decimal_range_pattern(largest) + r"\Z")
    matched = [n for n in range(0, largest * 3 + 10) if pattern.match(str(n))]
    assert matched == list(range(1, largest + 1))


@pytest.mark.parametrize("text, matches", [
    ("1", True), (str(MAX_ID), True), (str(MAX_ID - 1), True), ("1000000000", True),
    (str(MAX_ID + 1), False), ("9999999999", False), ("0", False), ("007", False),
    ("99999999999999999999999", False), ("-1", False),
])
def test_the_id_pattern_stops_at_the_column(text, matches):
    assert bool(re.compile(decimal_range_pattern(MAX_ID) + r"\Z").match(text)) is matches


def test_every_method_on_an_id_past_the_column_is_not_found(client):
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        answer = client.open(f"/api/v1/meetings/{MAX_ID + 1}/publish", method=method)
        assert answer.status_code == 404, method
