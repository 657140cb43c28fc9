"""CSV for spreadsheets: the one CSV writer of every export (results, archive record).

A text cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return,
which spreadsheets skip before reading a formula) is run as a formula when the file is
opened in Excel, LibreOffice or Google Sheets: a participant named ``=HYPERLINK(...)``
becomes a link in the archivist's sheet. Such a cell is written with a leading apostrophe
(OWASP's advice), so it shows as the text it is. Numbers are written as they are.

Every text cell is quoted, too: ``csv.writer`` leaves a carriage return unquoted when the
line terminator is ``"\n"``, and a name holding one would start a new row.
"""
from __future__ import annotations

import csv
from collections.abc import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value):
    """``value`` as a spreadsheet will read it as data, never as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class Writer:
    """``csv.writer`` whose every cell goes through :func:`cell`, text cells quoted."""

    def __init__(self, out, **options):
        options.setdefault("quoting", csv.QUOTE_NONNUMERIC)
        self._writer = csv.writer(out, **options)

    def writerow(self, row: Iterable):
        return self._writer.writerow([cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable]) -> None:
        for row in rows:
            self.writerow(row)


def writer(out, **options) -> Writer:
    return Writer(out, **options)
