"""The ``int`` URL converter, bounded: an id no column can hold matches no route (404).

Every ``<int:...>`` in a page or API route is an id or a 1-based number (version, page),
so the one converter the app has for integers accepts 1..MAX_ID and nothing else. The
bound is in the converter's regular expression, not only in ``to_python``: a value
outside it then matches no rule at all, so every method answers 404 ``not_found`` (a
bound checked after matching would turn ``POST /meetings/<huge>/publish`` into a 405
from the ``GET`` rule of the same path). The OpenAPI document reads the same bounds from
the converter (server/api/spec.py).
"""
from __future__ import annotations

from flask import Flask
from werkzeug.routing import IntegerConverter

from server.schemas.types import MAX_ID


def decimal_range_pattern(largest: int) -> str:
    """A regular expression for the decimal numbers 1..``largest``, without leading zeros."""
    digits = str(largest)
    options = [rf"[1-9]\d{{0,{len(digits) - 2}}}"] if len(digits) > 1 else []
    for index, digit in enumerate(digits):
        low = 1 if index == 0 else 0
        if int(digit) > low:
            rest = len(digits) - index - 1
            options.append(digits[:index] + f"[{low}-{int(digit) - 1}]"
                           + (rf"\d{{{rest}}}" if rest else ""))
    options.append(digits)
    return "(?:" + "|".join(options) + ")"


class BoundedIntConverter(IntegerConverter):
    regex = decimal_range_pattern(MAX_ID)

    def __init__(self, map, fixed_digits: int = 0, min: int | None = 1,  # noqa: A002
                 max: int | None = MAX_ID, signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def init_app(app: Flask) -> None:
    """Install before any blueprint: rules take their converter when they are added."""
    app.url_map.converters["int"] = BoundedIntConverter
