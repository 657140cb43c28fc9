"""The compiled comment report as a spreadsheet (.xlsx, written with openpyxl).

Whatever a delegate typed may start with ``=``, ``+``, ``-``, ``@``, a tab or
a carriage return, which a spreadsheet program would run as a formula
(CSV/formula injection). Every text cell is written as a string, and one that
starts so gets a leading apostrophe, as OWASP advises, so it shows as typed
and is never evaluated.
"""
from __future__ import annotations

import io
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from server.services.drafts.report import Report

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
WIDTHS = (6, 7, 40, 50, 25, 16, 16, 50)


def neutralise(value):
    """A cell value that no spreadsheet program evaluates."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def render_sheet(report: Report, *, zone: str = "Asia/Ho_Chi_Minh") -> bytes:
    L = report.labels
    book = Workbook()
    sheet = book.active
    sheet.title = L["title"][:31]
    deadline = report.deadline.astimezone(ZoneInfo(zone)).strftime("%d/%m/%Y %H:%M")
    heading = [
        [report.body.upper()],
        [L["title"]],
        [f"{L['on_draft']} {report.title} "
         f"({report.document_title}, {L['version']} {report.version})"],
        [f"{L['deadline']}: {deadline}. {L['total']}: {report.comments}."],
        [],
        [L["number"], L["page"], L["quote"], L["comment"], L["author"], L["kind"],
         L["response"], L["answer_text"]],
    ]
    for line in heading:
        sheet.append([neutralise(v) for v in line])
    for cell in sheet[6]:
        cell.font = Font(bold=True)
    sheet["A1"].font = sheet["A2"].font = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")
    for row in report.rows:
        values = [row.number, row.page, row.quote, "\n".join(row.texts), "\n".join(row.authors),
                  row.kind, row.response, row.response_text]
        sheet.append([neutralise(v) for v in values])
        for cell in sheet[sheet.max_row]:
            cell.alignment = wrap
            if isinstance(cell.value, str):
                cell.data_type = "s"  # a string, whatever it looks like
    for index, width in enumerate(WIDTHS):
        sheet.column_dimensions[chr(ord("A") + index)].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
