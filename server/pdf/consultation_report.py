"""The report of a written consultation's result, laid out like a Vietnamese administrative
document (báo cáo kết quả lấy ý kiến bằng văn bản).

Decree 30/2020/ND-CP layout, as the minutes (server/pdf/minutes.py): the body top left,
the national motto top right (the second line underlined), place and date, the centred
title, the question, the rule, the tally, every member's answer with its comment, the
audit chain head at closing, and the office's signature block, over which the signing
step creates its field (its rectangle is returned). Laid out by the minutes' ``lay_out``. Noto Serif, embedded and subset, so
the Vietnamese comes back exactly when the text is extracted.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

import pymupdf

from server.pdf.fonts_minutes import font_path
from server.pdf.minutes import PAGE, lay_out
from server.pdf.minutes_labels import place_and_date


LABELS = {
    "vi": {
        "motto1": "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "motto2": "Độc lập - Tự do - Hạnh phúc",
        "title": "BÁO CÁO KẾT QUẢ LẤY Ý KIẾN BẰNG VĂN BẢN", "about": "Về việc",
        "question": "Nội dung xin ý kiến", "period": "Thời gian lấy ý kiến",
        "from": "từ", "to": "đến", "closed": "Kết thúc lúc", "rule": "Nguyên tắc quyết định",
        "members": "Số thành viên được lấy ý kiến", "answered": "Số thành viên đã trả lời",
        "not_answered": "Không trả lời", "choice": "Ý kiến", "count": "Số ý kiến",
        "weight": "Trọng số", "passed": "Kết quả: THÔNG QUA", "failed": "Kết quả: KHÔNG THÔNG QUA",
        "answers": "Ý kiến của từng thành viên", "number": "TT", "member": "Thành viên",
        "when": "Thời điểm", "comment": "Ý kiến khác", "none": "(không trả lời)",
        "yes": "Đồng ý", "no": "Không đồng ý", "abstain": "Không có ý kiến",
        "audit": "Mã kiểm chứng nhật ký (audit chain head) tại thời điểm kết thúc lấy ý kiến:",
        "office": "TM. VĂN PHÒNG", "sign_hint": "(Ký số)", "page": "Trang",
        "threshold": "ngưỡng", "base": "trên cơ sở",
    },
    "en": {
        "motto1": "SOCIALIST REPUBLIC OF VIET NAM", "motto2": "Independence - Freedom - Happiness",
        "title": "REPORT ON THE RESULT OF A WRITTEN CONSULTATION", "about": "On",
        "question": "Question put", "period": "Consultation period",
        "from": "from", "to": "to", "closed": "Closed at", "rule": "Decision rule",
        "members": "Members consulted", "answered": "Members who answered",
        "not_answered": "No answer", "choice": "Answer", "count": "Answers",
        "weight": "Weight", "passed": "Result: ADOPTED", "failed": "Result: NOT ADOPTED",
        "answers": "Each member's answer", "number": "No.", "member": "Member",
        "when": "Answered at", "comment": "Comment", "none": "(no answer)",
        "yes": "Agree", "no": "Disagree", "abstain": "Abstain",
        "audit": "Audit chain head when the consultation closed:",
        "office": "FOR THE OFFICE", "sign_hint": "(Digital signature)", "page": "Page",
        "threshold": "threshold", "base": "of",
    },
}
# The figure of the audit head is read back by the archive check (minutes.verify's label).
AUDIT_LABEL = "audit chain head"


@dataclass
class ReportAnswer:
    name: str
    choice: str | None  # yes / no / abstain; None: did not answer
    answered_at: datetime | None = None
    comment: str = ""
    weight: str = "1"


@dataclass
class ConsultationReport:
    number: int
    body: str
    title: str
    question: str
    text: str
    opens_at: datetime
    closes_at: datetime
    closed_at: datetime
    rule: str
    result: dict
    audit_head: str
    answers: list[ReportAnswer] = field(default_factory=list)
    language: str = "vi"
    zone: str = "Asia/Ho_Chi_Minh"


@dataclass
class RenderedReport:
    pdf: bytes
    signature_boxes: dict[str, tuple[int, tuple[float, float, float, float]]]


def _e(value) -> str:
    return escape(str(value or ""))


def _lines(text: str) -> str:
    return "<br>".join(_e(line) for line in str(text or "").splitlines())


def _at(value: datetime | None, zone: str) -> str:
    return value.astimezone(ZoneInfo(zone)).strftime("%d/%m/%Y %H:%M") if value else ""


CSS = """
* {font-family: Minutes; font-size: 13pt; line-height: 1.25;}
p {margin: 0 0 4pt 0; text-align: justify;}
.center {text-align: center;} .right {text-align: right;}
h1 {font-size: 14pt; font-weight: bold; text-align: center; margin: 10pt 0 0 0;}
h2 {font-size: 13pt; font-weight: bold; margin: 10pt 0 4pt 0;}
body {margin: 0;}
table.head {width: 100%; border-spacing: 0;}
table.head td.left {width: 170pt; padding: 0;} table.head td.right-col {width: 283pt; padding: 0;}
.head {font-size: 12pt;} .hash {font-size: 8.5pt;}
table.rows {border-collapse: collapse; margin-top: 4pt;}
table.rows td, table.rows th {border: 0.5pt solid black; padding: 2pt 3pt; vertical-align: top;}
table.rows * {font-size: 10.5pt;}
table.rows th {font-weight: bold; text-align: center;}
td.n {width: 22pt;} td.m {width: 118pt;} td.c {width: 72pt;} td.w {width: 64pt;}
td.t {width: 134pt;}
table.tally td {font-size: 12pt; padding: 1pt 6pt;}
table.sign {width: 100%; margin-top: 14pt;} table.sign td {width: 226pt;}
"""


def report_html(r: ConsultationReport) -> str:
    L = LABELS.get(r.language, LABELS["vi"])
    place = place_and_date("", r.closed_at.astimezone(ZoneInfo(r.zone)), r.language)
    totals = r.result.get("totals", {})
    tally = "".join(
        f"<tr><td>{L[k]}</td><td class='right'>{totals.get(k, {}).get('count', 0)}</td>"
        f"<td class='right'>{_e(totals.get(k, {}).get('weight', '0'))}</td></tr>"
        for k in ("yes", "no", "abstain"))
    not_answered = [a for a in r.answers if a.choice is None]
    tally += (f"<tr><td>{L['not_answered']}</td><td class='right'>{len(not_answered)}</td>"
              "<td></td></tr>")
    rows = "".join(
        f"<tr><td class='n center'>{n}</td><td class='m'>{_e(a.name)}</td>"
        f"<td class='c'>{L[a.choice] if a.choice else L['none']}</td>"
        f"<td class='w'>{_at(a.answered_at, r.zone)}</td><td class='t'>{_lines(a.comment)}</td></tr>"
        for n, a in enumerate(r.answers, start=1))
    outcome = L["passed"] if r.result.get("passed") else L["failed"]
    answered = len(r.answers) - len(not_answered)
    return f"""
<table class="head"><tr>
<td class="center head left"><b>{_e(r.body).upper()}</b><br>Số: {r.number}/BC-XYK</td>
<td class="center head right-col"><b>{L['motto1']}</b><br><b><u>{L['motto2']}</u></b></td>
</tr></table>
<p class="right"><i>{_e(place.lstrip(', '))}</i></p>
<h1>{L['title']}</h1>
<p class="center"><b>{L['about']}: {_e(r.title)}</b></p>
<p><b>{L['question']}:</b> {_lines(r.question)}</p>
{f"<p>{_lines(r.text)}</p>" if r.text else ""}
<p><b>{L['period']}:</b> {L['from']} {_at(r.opens_at, r.zone)} {L['to']} {_at(r.closes_at, r.zone)}.
{L['closed']}: {_at(r.closed_at, r.zone)}.</p>
<p><b>{L['rule']}:</b> {_e(r.rule)} ({L['threshold']} {_e(r.result.get('threshold', ''))}
{L['base']} {_e(r.result.get('base', ''))}).</p>
<p>{L['members']}: {len(r.answers)}. {L['answered']}: {answered}.</p>
<table class="tally"><tr><th>{L['choice']}</th><th>{L['count']}</th><th>{L['weight']}</th></tr>
{tally}</table>
<p><b>{outcome}</b></p>
<h2>{L['answers']}</h2>
<table class="rows"><tr><th class='n'>{L['number']}</th><th class='m'>{L['member']}</th>
<th class='c'>{L['choice']}</th><th class='w'>{L['when']}</th><th class='t'>{L['comment']}</th></tr>
{rows}</table>
<p class="hash">{L['audit']}<br>{_e(r.audit_head)}</p>
<table class="sign"><tr><td></td><td class="center"><b>{L['office']}</b><br>
<i>{L['sign_hint']}</i><div id="sig-office" style="height: 70pt"></div></td></tr></table>"""


def render_report(r: ConsultationReport) -> RenderedReport:
    """The report on A4 pages, numbered, fonts embedded and subset, with the rectangle of
    the office's signature block."""
    pdf, boxes = lay_out(report_html(r), CSS)
    L = LABELS.get(r.language, LABELS["vi"])
    doc = pymupdf.open("pdf", pdf)
    for page in doc:
        page.insert_text((PAGE.width / 2 - 20, PAGE.height - 30),
                         f"{L['page']} {page.number + 1}/{doc.page_count}", fontsize=9,
                         fontname="ReportPage", fontfile=font_path())
    doc.set_metadata({"title": f"{L['title']} - {r.title}", "author": r.body,
                      "creator": "Hemicycle", "producer": "Hemicycle (PyMuPDF)",
                      "keywords": f"audit-head:{r.audit_head}"})
    doc.subset_fonts()
    return RenderedReport(doc.tobytes(garbage=3, deflate=True), boxes)
