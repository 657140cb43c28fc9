"""A poll's stored result as CSV, JSON or PDF, with every ballot so anyone can recount.

The PDF embeds Noto (PyMuPDF's built-in Helvetica has no Vietnamese glyphs);
the CSV starts with a byte order mark so spreadsheets read it as UTF-8, and no cell of it
is ever run as a formula (``services/spreadsheet.py``).
"""
from __future__ import annotations

import io
import json
import textwrap

import pymupdf

from server.models import Poll
from server.pdf.fonts_minutes import font_path
from server.services import spreadsheet

_OUTCOME = {"adopted": "Thông qua / Adopted", "rejected": "Không thông qua / Rejected",
            "no_quorum": "Không đủ túc số / No quorum", "elected": "Trúng cử / Elected",
            "tie": "Bằng phiếu / Tie", "none_elected": "Không ai trúng cử / Nobody elected"}


def _labels(poll: Poll) -> dict[str, str]:
    return {o.key: o.label for o in poll.options}


def _summary_rows(poll: Poll) -> list[list[str]]:
    result, labels = poll.result, _labels(poll)
    rows = [["Biểu quyết / Poll", str(poll.id)], ["Nội dung / Motion", poll.motion],
            ["Hình thức / Kind", poll.kind.value],
            ["Quy tắc / Majority", f"{poll.majority.value} ({poll.majority_base.value})"],
            ["Số phiếu / Ballots", str(result["ballots"])],
            ["Cơ sở / Base", result["base"]],
            ["Ngưỡng / Threshold", result["threshold"] or "yes > no"],
            ["Túc số / Quorum",
             "đạt / reached" if result["quorum_reached"] else "không đạt / not reached"],
            ["Kết quả / Outcome", _OUTCOME.get(result["outcome"], result["outcome"])]]
    for name in ("elected", "tied"):
        if result.get(name):
            rows.append([name, ", ".join(labels[k] for k in result[name])])
    return rows


def _ballot_rows(poll: Poll) -> tuple[list[str], list[list[str]]]:
    labels = _labels(poll)
    ballots = poll.result["ballot_list"]
    if poll.kind.value == "secret":
        return (["Mã biên nhận / Receipt", "Lựa chọn / Choices", "Trọng số / Weight"],
                [[b["receipt"], "; ".join(labels[c] for c in b["choices"]), b["weight"]]
                 for b in ballots])
    return (["Đại biểu / Delegate", "Lựa chọn / Choices", "Trọng số / Weight", "Ủy quyền / Proxy"],
            [[b["name"], "; ".join(labels[c] for c in b["choices"]), b["weight"],
              str(b["by_proxy_holder_id"] or "")] for b in ballots])


def to_json(poll: Poll) -> bytes:
    document = {"poll": {"id": poll.id, "motion": poll.motion, "meeting_id": poll.meeting_id,
                         "options": [{"key": o.key, "label": o.label} for o in poll.options]},
                "result": poll.result}
    return json.dumps(document, ensure_ascii=False, indent=1).encode()


def to_csv(poll: Poll) -> bytes:
    out = io.StringIO()
    writer = spreadsheet.writer(out)
    writer.writerows(_summary_rows(poll))
    writer.writerow([])
    writer.writerow(["Phương án / Option", "Mã / Key", "Số phiếu / Count", "Trọng số / Weight"])
    for option in poll.result["options"]:
        writer.writerow([option["label"], option["key"], option["count"], option["weight"]])
    writer.writerow([])
    header, rows = _ballot_rows(poll)
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" + out.getvalue()).encode()


class _Writer:
    """Lines of text down A4 pages, in an embedded Unicode font."""

    def __init__(self):
        self.doc = pymupdf.open()
        self.font = font_path("regular")
        self.page, self.y = None, 0.0

    def line(self, text: str, size: float = 10, indent: float = 0) -> None:
        for part in textwrap.wrap(text, width=int(95 * 10 / size)) or [""]:
            if self.page is None or self.y > 800:
                self.page, self.y = self.doc.new_page(width=595, height=842), 50.0
            self.page.insert_text((50 + indent, self.y), part, fontsize=size, fontname="noto",
                                  fontfile=self.font)
            self.y += size * 1.45


def to_pdf(poll: Poll) -> bytes:
    writer = _Writer()
    writer.line("KẾT QUẢ BIỂU QUYẾT / POLL RESULT", 14)
    for label, value in _summary_rows(poll):
        writer.line(f"{label}: {value}")
    writer.line("")
    for option in poll.result["options"]:
        writer.line(f"{option['label']}: {option['count']} (trọng số / weight {option['weight']})",
                    indent=10)
    writer.line("")
    header, rows = _ballot_rows(poll)
    writer.line(" | ".join(header), 9)
    for row in rows:
        writer.line(" | ".join(row), 9, indent=10)
    writer.doc.set_metadata({"title": f"Poll {poll.id}: {poll.motion[:100]}",
                             "creator": "Hemicycle"})
    writer.doc.subset_fonts()
    return writer.doc.tobytes(garbage=3, deflate=True)
