"""Compilation: merging duplicates, answers, and the report as PDF and spreadsheet."""
from __future__ import annotations

import io
import uuid

import pymupdf
import pytest
from openpyxl import load_workbook

from server.errors import Forbidden, InvalidInput
from server.extensions import db
from server.models import CommentKind, CommentResponse
from server.services.drafts import compilation, report, report_pdf, report_sheet
from tests.services.drafts.conftest import open_for_comments
from tests.services.drafts.test_comments import comment

HOSTILE = ["=HYPERLINK(\"http://x\",\"bấm\")", "+1+1", "-2", "@SUM(A1)", "\tTab", "\rCR"]


@pytest.fixture
def compiled(draft):
    comment_period = open_for_comments(draft)
    first = comment(draft.alice, comment_period, text="Đề nghị giảm tổng vốn xuống 1.000 tỷ đồng.")
    duplicate = comment(draft.bao, comment_period, text="Nên giảm tổng vốn đầu tư.")
    second = comment(draft.bao, comment_period, page=2, region=None, kind=CommentKind.EDITORIAL,
                     text="Sửa “Ủy ban” thành “Ủy ban nhân dân tỉnh”.")
    compilation.merge(draft.secretary, duplicate.id, first.id)
    compilation.respond(draft.secretary, first.id, CommentResponse.EXPLAINED,
                        "Giữ nguyên tổng vốn vì đã được Trung ương phân bổ.")
    compilation.respond(draft.secretary, second.id, CommentResponse.ACCEPTED, "")
    db.session.commit()
    return draft, comment_period, first, duplicate, second


def test_a_merged_duplicate_is_answered_by_the_comment_it_joined(compiled):
    draft, comment_period, first, duplicate, second = compiled
    built = report.compile_report(draft.secretary, comment_period.id)
    assert [row.page for row in built.rows] == [1, 2]
    assert built.rows[0].authors == ["Nguyễn Thị Ánh", "Trần Văn Bảo"]
    assert built.rows[0].texts == ["Đề nghị giảm tổng vốn xuống 1.000 tỷ đồng.",
                                   "Nên giảm tổng vốn đầu tư."]
    assert built.rows[0].response == "Giải trình" and built.rows[1].response == "Tiếp thu"
    assert built.comments == 3
    with pytest.raises(InvalidInput):
        compilation.respond(draft.secretary, duplicate.id, CommentResponse.ACCEPTED, "")
    db.session.rollback()
    # Merging the answered comment into the second takes its duplicate along: no chains.
    compilation.merge(draft.secretary, first.id, second.id)
    db.session.commit()
    db.session.refresh(duplicate)
    assert duplicate.merged_into_id == second.id
    with pytest.raises(InvalidInput):
        compilation.merge(draft.secretary, second.id, duplicate.id)  # would join itself


def test_only_the_office_compiles(compiled):
    draft, comment_period, first, _duplicate, _second = compiled
    for actor in (draft.alice, draft.chair):
        with pytest.raises(Forbidden):
            compilation.respond(actor, first.id, CommentResponse.ACCEPTED, "")
        db.session.rollback()
    with pytest.raises(Forbidden):
        report.compile_report(draft.alice, comment_period.id)


def test_the_pdf_report_gives_back_the_vietnamese_exactly_in_an_embedded_font(compiled):
    draft, comment_period, *_ = compiled
    data = report_pdf.render_report(report.compile_report(draft.secretary, comment_period.id))
    with pymupdf.open("pdf", data) as pdf:
        text = "".join(page.get_text() for page in pdf)
        fonts = {font[3] for page in pdf for font in page.get_fonts()}
    flat = " ".join(text.split())
    for expected in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
                     "BẢNG TỔNG HỢP Ý KIẾN GÓP Ý", "Dự thảo Nghị quyết đầu tư công",
                     "Đề nghị giảm tổng vốn xuống 1.000 tỷ đồng.", "Nên giảm tổng vốn đầu tư.",
                     "Sửa “Ủy ban” thành “Ủy ban nhân dân tỉnh”.", "Nguyễn Thị Ánh", "Trần Văn Bảo",
                     "Giữ nguyên tổng vốn vì đã được Trung ương phân bổ.", "Giải trình", "Tiếp thu",
                     "Điều 1. Phê duyệt kế hoạch đầu tư công năm 2027", "CƠ QUAN SOẠN THẢO"):
        assert expected in flat, expected
    assert fonts and all("Noto" in name for name in fonts), fonts
    assert not any("Helv" in name for name in fonts)


def test_the_spreadsheet_gives_back_the_vietnamese_and_never_a_formula(compiled):
    draft, comment_period, first, *_ = compiled
    for hostile in HOSTILE:
        comment(draft.alice, comment_period, kind=CommentKind.EDITORIAL, text=hostile)
    compilation.respond(draft.secretary, first.id, CommentResponse.NOT_ACCEPTED, "=1+2 không")
    db.session.commit()
    data = report_sheet.render_sheet(report.compile_report(draft.secretary, comment_period.id))
    sheet = load_workbook(io.BytesIO(data)).active
    values = [cell.value for row in sheet.iter_rows() for cell in row if cell.value is not None]
    assert "BẢNG TỔNG HỢP Ý KIẾN GÓP Ý" in values
    assert "Đề nghị giảm tổng vốn xuống 1.000 tỷ đồng.\nNên giảm tổng vốn đầu tư." in values
    assert "Nguyễn Thị Ánh\nTrần Văn Bảo" in values
    assert "Điều 1. Phê duyệt kế hoạch đầu tư công năm 2027\nTổng vốn: 1.250 tỷ đồng" in values
    assert "'=1+2 không" in values and "Không tiếp thu" in values
    for hostile in HOSTILE:
        assert "'" + hostile in values, hostile
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f", cell.value
            if isinstance(cell.value, str):
                assert not cell.value.startswith(report_sheet.FORMULA_STARTS), cell.value


@pytest.mark.parametrize("value, expected", [
    ("=1", "'=1"), ("+1", "'+1"), ("-1", "'-1"), ("@A", "'@A"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("Góp ý", "Góp ý"), (3, 3), ("", ""),
])
def test_neutralise(value, expected):
    assert report_sheet.neutralise(value) == expected


def test_the_drafted_minutes_say_how_the_comments_were_answered(compiled):
    from server.pdf.minutes import render_minutes
    from server.services.minutes.draft import draft_sections

    draft, comment_period, *_ = compiled
    sections = draft_sections(draft.meeting, "Asia/Ho_Chi_Minh")
    (document,) = [d for item in sections["items"] for d in item["documents"]]
    assert document["comment_period"] == {"title": comment_period.title, "comments": 3, "points": 2,
                                        "accepted": 1, "explained": 1, "not_accepted": 0}
    pdf = render_minutes(sections, "", "vi", "0" * 64, draft=True).pdf
    with pymupdf.open("pdf", pdf) as minutes:
        text = " ".join("".join(p.get_text() for p in minutes).split())
    assert ("Ý kiến góp ý dự thảo: 3 (2 nội dung; tiếp thu 1, giải trình 1, không tiếp thu 0)"
            in text)
