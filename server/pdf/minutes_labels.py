"""The words of the minutes in each language (the PDF is the record, not the UI)."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

LABELS = {
    "vi": {
        "motto1": "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "motto2": "Độc lập - Tự do - Hạnh phúc",
        "number": "Số:", "title": "BIÊN BẢN",
        "s_general": "I. THỜI GIAN, ĐỊA ĐIỂM, THÀNH PHẦN", "s_content": "II. NỘI DUNG",
        "s_end": "III. KẾT THÚC",
        "time": "Thời gian", "opened": "Bắt đầu", "closed": "kết thúc", "place": "Địa điểm",
        "chair": "Chủ tọa", "secretary": "Thư ký",
        "present": "Có mặt", "excused": "Vắng mặt có lý do", "absent": "Vắng mặt",
        "quorum": "Số đại biểu có quyền biểu quyết có mặt",
        "quorum_ok": "đủ số lượng theo quy định", "quorum_no": "không đủ số lượng theo quy định",
        "required": "cần", "presenter": "Trình bày", "documents": "Tài liệu",
        "version": "phiên bản", "pages": "trang", "speakers": "Ý kiến phát biểu",
        "poll": "Biểu quyết", "secret": "bỏ phiếu kín", "named": "biểu quyết công khai",
        "option": "Phương án", "count": "Số phiếu", "weight": "Trọng số",
        "cast": "Tổng số phiếu", "passed": "Kết quả: THÔNG QUA", "failed": "Kết quả: KHÔNG THÔNG QUA",
        "cancelled": "Kết quả: đã hủy", "no_quorum": "Kết quả: không đủ túc số, không thông qua",
        "tie": "Kết quả: số phiếu ngang nhau, chưa có người trúng cử", "elected": "Trúng cử", "decision": "Kết luận",
        "ballot_digest": "Mã niêm phong danh sách phiếu (SHA-256)",
        "notes": "Ghi chú", "other": "Các nội dung khác", "general": "Nội dung chung",
        "adjourned": "Cuộc họp kết thúc lúc", "audit": "Mã kiểm chứng nhật ký (audit chain head) "
        "tại thời điểm hoàn thiện biên bản:",
        "sign_secretary": "THƯ KÝ", "sign_chair": "CHỦ TỌA",
        "sign_hint": "(Ký số)", "page": "Trang",
        "comments": "Ý kiến góp ý dự thảo", "points": "nội dung", "accepted": "tiếp thu",
        "explained": "giải trình", "not_accepted": "không tiếp thu",
        "draft_text": "Dự thảo", "lines_word": "dòng", "amendment": "Sửa đổi số",
        "moved_by": "do đại biểu", "replaces": "thay", "by_text": "bằng", "deletes": "bỏ",
        "reasons": "lý do", "adopted_text": "Toàn văn được thông qua",
        "outcomes": {"adopted": "được thông qua", "rejected": "không được thông qua",
                     "lapsed": "không biểu quyết (đã bị thay bởi sửa đổi được thông qua)",
                     "voting": "đang biểu quyết", "counted": "đã kiểm phiếu, chưa công bố",
                     "amending": "chưa biểu quyết toàn văn", "not_admitted": "không được chấp nhận",
                     "withdrawn": "đã rút", "tabled": "chưa xem xét", "admitted": "chưa biểu quyết"},
        "roles": {"chair": "chủ tọa", "secretary": "thư ký", "delegate": "đại biểu",
                  "observer": "khách mời"},
    },
    "en": {
        "motto1": "SOCIALIST REPUBLIC OF VIET NAM",
        "motto2": "Independence - Freedom - Happiness",
        "number": "No.:", "title": "MINUTES",
        "s_general": "I. TIME, PLACE AND ATTENDANCE", "s_content": "II. PROCEEDINGS",
        "s_end": "III. CLOSING",
        "time": "Time", "opened": "Opened", "closed": "closed", "place": "Place",
        "chair": "Chair", "secretary": "Secretary",
        "present": "Present", "excused": "Excused", "absent": "Absent",
        "quorum": "Voting members present",
        "quorum_ok": "quorum reached", "quorum_no": "quorum not reached",
        "required": "required", "presenter": "Presented by", "documents": "Documents",
        "version": "version", "pages": "pages", "speakers": "Speakers",
        "poll": "Vote", "secret": "secret ballot", "named": "named vote",
        "option": "Option", "count": "Votes", "weight": "Weight",
        "cast": "Votes cast", "passed": "Result: ADOPTED", "failed": "Result: NOT ADOPTED",
        "cancelled": "Result: cancelled", "no_quorum": "Result: no quorum, not adopted",
        "tie": "Result: tied, nobody elected", "elected": "Elected", "decision": "Decision",
        "ballot_digest": "Digest of the ballot list (SHA-256)",
        "notes": "Notes", "other": "Other matters", "general": "General business",
        "adjourned": "The meeting was closed at", "audit": "Audit chain head when the minutes "
        "were finalised:",
        "sign_secretary": "SECRETARY", "sign_chair": "CHAIR",
        "sign_hint": "(Digitally signed)", "page": "Page",
        "comments": "Comments on the draft", "points": "points", "accepted": "accepted",
        "explained": "explained", "not_accepted": "not accepted",
        "draft_text": "Draft", "lines_word": "lines", "amendment": "Amendment no.",
        "moved_by": "moved by", "replaces": "replaces", "by_text": "with", "deletes": "deletes",
        "reasons": "reasons", "adopted_text": "Text as adopted",
        "outcomes": {"adopted": "adopted", "rejected": "not adopted",
                     "lapsed": "lapsed (its lines replaced by an adopted amendment)",
                     "voting": "being voted", "counted": "counted, not yet announced",
                     "amending": "the whole not yet voted", "not_admitted": "not admitted",
                     "withdrawn": "withdrawn", "tabled": "not yet considered",
                     "admitted": "not yet voted"},
        "roles": {"chair": "chair", "secretary": "secretary", "delegate": "member",
                  "observer": "observer"},
    },
}

_MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August",
              "September", "October", "November", "December")


def labels(language: str) -> dict:
    return LABELS.get(language, LABELS["vi"])


def local(value: str | None, timezone: str) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value).astimezone(ZoneInfo(timezone))


def place_and_date(locality: str, when: datetime, language: str) -> str:
    """"Lâm Đồng, ngày 05 tháng 11 năm 2026" (Decree 30/2020: days and months below 10 padded)."""
    if language == "en":
        return f"{locality}, {when.day} {_MONTHS_EN[when.month - 1]} {when.year}"
    day, month = f"{when.day:02d}", f"{when.month:02d}" if when.month < 3 else str(when.month)
    return f"{locality}, ngày {day} tháng {month} năm {when.year}"


def clock(when: datetime | None, language: str) -> str:
    if when is None:
        return "…"
    if language == "en":
        return f"{when:%H:%M} on {when.day} {_MONTHS_EN[when.month - 1]} {when.year}"
    return f"{when:%H} giờ {when:%M} phút, ngày {when:%d/%m/%Y}"


def duration(seconds: int | None) -> str:
    if seconds is None:
        return ""
    return f"{seconds // 60}:{seconds % 60:02d}"
