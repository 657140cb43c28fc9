"""The minutes PDF: Decree 30 layout, Vietnamese text exactly, embedded subset fonts."""
from __future__ import annotations

import copy
from datetime import datetime, timezone

import pymupdf
import pytest

from server.pdf.minutes import PAGE, render_minutes
from server.pdf.minutes_labels import place_and_date

HEAD = "ab" * 32
SECTIONS = {
    "version": 1,
    "meeting": {"id": 1, "title": "Kỳ họp thứ 12 Hội đồng nhân dân tỉnh khóa X",
                "body": "Hội đồng nhân dân tỉnh Lâm Đồng", "reference": "12/BB-HĐND",
                "place": "Hội trường A", "locality": "Lâm Đồng", "timezone": "Asia/Ho_Chi_Minh",
                "starts_at": "2026-11-05T01:00:00+00:00", "opened_at": "2026-11-05T01:00:00+00:00",
                "closed_at": "2026-11-05T04:30:00+00:00"},
    "chair": "Nguyễn Thị Ngọc Diễm", "secretary": "Trần Văn Lữ",
    "attendance": {
        "present": [{"name": "Nguyễn Thị Ngọc Diễm", "position": "Chủ tịch", "role": "chair"},
                    {"name": "Phạm Thị Kỳ Duyên", "position": "", "role": "delegate"},
                    {"name": "Trần Văn Lữ", "position": "", "role": "secretary"},
                    {"name": "Hoàng Văn Dẫn", "position": "", "role": "delegate"},
                    {"name": "Lý Thị Kiều Diệp", "position": "", "role": "delegate"}],
        "absent": [{"name": "Đặng Văn Hữu", "position": "", "role": "delegate"}],
        "excused": [{"name": "Võ Thị Thu Thủy", "position": "", "role": "delegate",
                     "excuse": "Ốm"}],
        "members": 3, "present_members": 2, "members_weight": "3", "present_weight": "2",
        "quorum_rule": "majority", "quorum_reached": True},
    "opening": "Chủ tọa khai mạc kỳ họp.",
    "items": [
        {"id": 1, "number": "1", "level": 0, "title": "Báo cáo kinh tế - xã hội",
         "presenter": "Phó Chủ tịch UBND", "description": "",
         "speakers": [{"name": "Phạm Thị Kỳ Duyên", "position": "",
                       "started_at": "2026-11-05T01:40:00+00:00",
                       "ended_at": "2026-11-05T01:43:20+00:00", "seconds": 200}],
         "documents": [{"title": "Báo cáo số 45", "version": 2, "filename": "bc.pdf",
                        "sha256": "c" * 64, "pages": 12, "confidential": False}],
         "polls": [], "decision": "", "notes": "Đại biểu nhất trí."},
        {"id": 2, "number": "1.1", "level": 1, "title": "Biểu quyết thông qua",
         "presenter": "", "description": "", "speakers": [], "documents": [],
         "polls": [{"id": 1, "motion": "Thông qua Nghị quyết", "kind": "named",
                    "option_kind": "yes_no_abstain", "majority": "simple", "majority_base": "cast",
                    "status": "published", "closed_at": None, "cast": "2",
                    "options": [{"key": "yes", "label": "Tán thành", "count": "2", "weight": "2"},
                                {"key": "no", "label": "Không tán thành", "count": "0",
                                 "weight": "0"}],
                    "passed": True, "quorum_reached": True, "elected": [], "decision": ""}],
         "decision": "Thông qua Nghị quyết số 7.", "notes": ""},
    ],
    "general": {"speakers": [], "documents": [], "polls": []},
    "adjournment": "", "edited": [],
}


def _text(pdf: bytes) -> str:
    """The text of every page, lines joined by spaces (the body's name may wrap)."""
    with pymupdf.open("pdf", pdf) as doc:
        return " ".join(" ".join(page.get_text().split("\n")) for page in doc)


def _lines(pdf: bytes, page: int = 0) -> list[str]:
    with pymupdf.open("pdf", pdf) as doc:
        return doc[page].get_text().splitlines()


@pytest.fixture(scope="module")
def vietnamese():
    return render_minutes(SECTIONS, "Ý kiến khác: không có.", "vi", HEAD)


def test_vietnamese_text_comes_back_exactly(vietnamese):
    text = _text(vietnamese.pdf)
    for expected in ("HỘI ĐỒNG NHÂN DÂN TỈNH LÂM ĐỒNG", "Số: 12/BB-HĐND",
                     "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
                     "Lâm Đồng, ngày 05 tháng 11 năm 2026", "BIÊN BẢN",
                     "Nguyễn Thị Ngọc Diễm", "Phạm Thị Kỳ Duyên", "Trần Văn Lữ", "Võ Thị Thu Thủy",
                     "Hoàng Văn Dẫn", "Lý Thị Kiều Diệp",  # ẫ ệ ữ ỳ
                     "Bắt đầu 08 giờ 00 phút, ngày 05/11/2026", "THƯ KÝ", "CHỦ TỌA",
                     "Kết quả: THÔNG QUA", "Thông qua Nghị quyết số 7.", "Ý kiến khác: không có.",
                     "sha256 " + "c" * 64, HEAD):
        assert expected in text, expected
    lines = _lines(vietnamese.pdf)
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in lines  # the motto on one line each
    assert "Độc lập - Tự do - Hạnh phúc" in lines


def test_fonts_are_embedded_subsets_of_noto(vietnamese):
    with pymupdf.open("pdf", vietnamese.pdf) as doc:
        fonts = {f[3] for page in doc for f in page.get_fonts()}
        extensions = {f[1] for page in doc for f in page.get_fonts()}
    assert fonts and all("+Noto" in name for name in fonts), fonts
    assert "n/a" not in extensions  # no base-14 font without glyphs for Vietnamese


def test_renders_to_an_image_with_ink_where_the_motto_is(vietnamese):
    with pymupdf.open("pdf", vietnamese.pdf) as doc:
        page = doc[0]
        [motto] = page.search_for("Độc lập - Tự do - Hạnh phúc")
        pixmap = page.get_pixmap(dpi=100, clip=motto)
    dark = sum(1 for i in range(0, len(pixmap.samples), pixmap.n) if pixmap.samples[i] < 128)
    assert dark > 50


def test_signature_boxes_sit_in_the_signature_blocks(vietnamese):
    boxes = vietnamese.signature_boxes
    assert set(boxes) == {"chair", "secretary"}
    (page_s, secretary), (page_c, chair) = boxes["secretary"], boxes["chair"]
    with pymupdf.open("pdf", vietnamese.pdf) as doc:
        assert page_s == page_c == doc.page_count - 1
        [title] = doc[page_c].search_for("CHỦ TỌA")
    assert secretary[2] <= chair[0]  # secretary left, chair right (Decree 30)
    assert chair[0] <= title.x0 + 50 and title.x1 <= chair[2] + 50
    assert PAGE.height - chair[1] > title.y1  # the box lies below its heading
    assert chair[3] - chair[1] >= 60 and chair[2] - chair[0] >= 150


def test_english_template(vietnamese):
    rendered = render_minutes(SECTIONS, "", "en", HEAD)
    text = _text(rendered.pdf)
    for expected in ("SOCIALIST REPUBLIC OF VIET NAM", "Independence - Freedom - Happiness",
                     "MINUTES", "Lâm Đồng, 5 November 2026", "Result: ADOPTED", "SECRETARY",
                     "CHAIR", "Nguyễn Thị Ngọc Diễm"):
        assert expected in text, expected


def test_failed_and_unknown_results():
    sections = copy.deepcopy(SECTIONS)
    sections["items"][1]["polls"][0]["passed"] = False
    assert "KHÔNG THÔNG QUA" in _text(render_minutes(sections, "", "vi", HEAD).pdf)
    sections["items"][1]["polls"][0]["outcome"] = "no_quorum"
    assert "không đủ túc số" in _text(render_minutes(sections, "", "vi", HEAD).pdf)
    sections["items"][1]["polls"][0]["outcome"] = ""
    sections["items"][1]["polls"][0]["passed"] = None
    sections["items"][1]["polls"][0]["options"][0]["count"] = None
    assert "Kết quả:" not in _text(render_minutes(sections, "", "vi", HEAD).pdf)


def test_long_minutes_flow_onto_more_pages():
    sections = copy.deepcopy(SECTIONS)
    sections["items"][0]["notes"] = "\n".join(f"Ý kiến thứ {n}: đồng ý." for n in range(200))
    rendered = render_minutes(sections, "", "vi", HEAD)
    with pymupdf.open("pdf", rendered.pdf) as doc:
        assert doc.page_count > 3
        assert f"Trang {doc.page_count}/{doc.page_count}" in doc[-1].get_text()
        assert rendered.signature_boxes["chair"][0] == doc.page_count - 1


def test_text_is_escaped():
    sections = copy.deepcopy(SECTIONS)
    sections["opening"] = "<b>not bold</b> & <script>"
    assert "<b>not bold</b> & <script>" in _text(render_minutes(sections, "", "vi", HEAD).pdf)


@pytest.mark.parametrize("when, expected", [
    (datetime(2027, 1, 5, tzinfo=timezone.utc), "Đà Lạt, ngày 05 tháng 01 năm 2027"),
    (datetime(2026, 11, 25, tzinfo=timezone.utc), "Đà Lạt, ngày 25 tháng 11 năm 2026"),
    (datetime(2026, 3, 9, tzinfo=timezone.utc), "Đà Lạt, ngày 09 tháng 3 năm 2026"),
])
def test_date_line_follows_decree_30(when, expected):
    assert place_and_date("Đà Lạt", when, "vi") == expected


@pytest.mark.parametrize("head", ["f" * 64, "0ff1ce" * 10 + "ffff", "0" * 64])
def test_the_stated_audit_head_reads_back_exactly(head):
    from server.services.minutes.verify import stated_audit_head

    assert stated_audit_head(render_minutes(SECTIONS, "", "en", head).pdf) == head
