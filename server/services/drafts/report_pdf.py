"""The compiled comment report as a PDF, laid out like a Vietnamese administrative document.

Decree 30/2020/ND-CP layout, as the minutes (server/pdf/minutes.py): the body
top left, the national motto top right (the second line underlined), place and
date, the centred title, then the table of comments with the office's answers
and the drafting office's signature block. A4 landscape, as such tables are
printed. The text is set by a PyMuPDF Story in Noto Serif, embedded and
subset (never PyMuPDF's built-in Helvetica, which has no Vietnamese), so the
Vietnamese comes back exactly when the text is extracted.
"""
from __future__ import annotations

import io
from datetime import datetime, timezone
from html import escape
from zoneinfo import ZoneInfo

import pymupdf

from server.pdf.fonts_minutes import font_dir, font_face_css, font_path
from server.pdf.minutes_labels import place_and_date
from server.services.drafts.report import Report

PAGE = pymupdf.paper_rect("a4-l")
# Decree 30 margins: top and bottom 20-25 mm, left 30-35 mm, right 15-20 mm.
BODY = PAGE + (85, 62, -57, -62)

CSS = """
* {font-family: Minutes; font-size: 12pt; line-height: 1.2;}
p {margin: 0 0 3pt 0;}
.center {text-align: center;} .right {text-align: right;}
h1 {font-size: 14pt; font-weight: bold; text-align: center; margin: 10pt 0 0 0;}
body {margin: 0;}
table.head {width: 100%; border-spacing: 0;}
table.head td.left {width: 250pt; padding: 0;} table.head td.right-col {width: 450pt; padding: 0;}
.head {font-size: 12pt;}
table.rows {border-collapse: collapse; margin-top: 6pt;}
table.rows td, table.rows th {border: 0.5pt solid black; padding: 2pt 3pt; vertical-align: top;
  font-size: 10.5pt;}
table.rows * {font-size: 10.5pt;}
table.rows th {font-weight: bold; text-align: center;}
td.n {width: 28pt;} td.pg {width: 34pt;} td.q {width: 150pt;} td.c {width: 200pt;}
td.a {width: 100pt;} td.r {width: 146pt;}
table.sign {width: 100%; margin-top: 14pt;} table.sign td {width: 350pt;}
"""


def _e(value) -> str:
    return escape(str(value or ""))


def _lines(text: str) -> str:
    return "<br>".join(_e(line) for line in str(text or "").splitlines())


def _header(report: Report, when: datetime) -> str:
    L = report.labels
    place = report.place or ""
    return f"""
<table class="head"><tr>
<td class="center head left"><b>{_e(report.body).upper()}</b></td>
<td class="center head right-col"><b>{L['motto1']}</b><br><b><u>{L['motto2']}</u></b></td>
</tr></table>
<p class="right"><i>{_e(place_and_date(place, when, report.language))}</i></p>
<h1>{L['title']}</h1>
<p class="center"><b>{L['on_draft']} {_e(report.title)}</b></p>
<p class="center"><i>({_e(report.document_title)}, {L['version']} {report.version})</i></p>"""


def _rows(report: Report) -> str:
    L = report.labels
    head = (f"<tr><th class='n'>{L['number']}</th><th class='pg'>{L['page']}</th>"
            f"<th class='q'>{L['quote']}</th><th class='c'>{L['comment']}</th>"
            f"<th class='a'>{L['author']}</th><th class='r'>{L['response']}</th></tr>")
    body = []
    for row in report.rows:
        texts = "<br>".join(f"- {_lines(t)}" for t in row.texts) if len(row.texts) > 1 \
            else _lines(row.texts[0] if row.texts else "")
        answer = f"<b>{_e(row.response)}</b>" + (f"<br>{_lines(row.response_text)}"
                                                 if row.response_text else "")
        body.append(
            f"<tr><td class='n center'>{row.number}</td><td class='pg center'>{row.page}</td>"
            f"<td class='q'><i>{_lines(row.quote)}</i></td>"
            f"<td class='c'><b>{_e(row.kind)}</b><br>{texts}</td>"
            f"<td class='a'>{'<br>'.join(_e(a) for a in row.authors)}</td>"
            f"<td class='r'>{answer}</td></tr>")
    return f"<table class='rows'>{head}{''.join(body)}</table>"


def report_html(report: Report, when: datetime, zone: str) -> str:
    L = report.labels
    deadline = report.deadline.astimezone(ZoneInfo(zone)).strftime("%d/%m/%Y %H:%M")
    return (_header(report, when)
            + f"<p>{L['deadline']}: {deadline}. {L['total']}: {report.comments}.</p>"
            + _rows(report)
            + f"<table class='sign'><tr><td></td><td class='center'><b>{L['office']}</b>"
              f"<div style='height: 60pt'></div></td></tr></table>")


def render_report(report: Report, *, zone: str = "Asia/Ho_Chi_Minh",
                  now: datetime | None = None) -> bytes:
    """The report on A4 landscape pages, numbered, fonts embedded and subset."""
    when = (now or datetime.now(timezone.utc)).astimezone(ZoneInfo(zone))
    story = pymupdf.Story(report_html(report, when, zone), user_css=font_face_css() + CSS,
                          archive=pymupdf.Archive(str(font_dir())))
    buffer = io.BytesIO()
    writer = pymupdf.DocumentWriter(buffer)
    more = True
    while more:
        device = writer.begin_page(PAGE)
        more, _ = story.place(BODY)
        story.draw(device)
        writer.end_page()
    writer.close()
    doc = pymupdf.open("pdf", buffer.getvalue())
    for page in doc:
        page.insert_text((PAGE.width / 2 - 20, PAGE.height - 30),
                         f"{report.labels['page_of']} {page.number + 1}/{doc.page_count}",
                         fontsize=9, fontname="ReportPage", fontfile=font_path())
    doc.set_metadata({"title": f"{report.labels['title']} - {report.title}",
                      "author": report.body, "creator": "Hemicycle",
                      "producer": "Hemicycle (PyMuPDF)"})
    doc.subset_fonts()
    return doc.tobytes(garbage=3, deflate=True)
