"""The compiled comment report (bảng tổng hợp ý kiến góp ý): its rows, for both exports.

One row per comment that is not merged into another, in page order; the
duplicates merged into it add their authors and texts to its row, so the
report answers every comment once. The words are in the report's language
(the PDF and the spreadsheet are records, not the UI).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from server.errors import NotFound
from server.extensions import db
from server.models import CommentPeriod, Document, DocumentVersion, Meeting
from server.services.access import Permission, get_meeting
from server.services.actors import Actor
from server.services.drafts import comments as comment_service

LABELS = {
    "vi": {
        "motto1": "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "motto2": "Độc lập - Tự do - Hạnh phúc",
        "title": "BẢNG TỔNG HỢP Ý KIẾN GÓP Ý", "on_draft": "đối với dự thảo",
        "number": "STT", "page": "Trang", "quote": "Nội dung dự thảo", "comment": "Ý kiến góp ý",
        "author": "Đại biểu", "kind": "Loại", "response": "Tiếp thu, giải trình",
        "version": "phiên bản", "deadline": "Hạn góp ý", "total": "Tổng số ý kiến",
        "office": "CƠ QUAN SOẠN THẢO", "answer_text": "Nội dung tiếp thu, giải trình", "page_of": "Trang",
        "kinds": {"editorial": "Biên tập", "substantive": "Nội dung", "agree": "Tán thành",
                  "disagree": "Không tán thành"},
        "responses": {"accepted": "Tiếp thu", "explained": "Giải trình",
                      "not_accepted": "Không tiếp thu", None: "Chưa trả lời"},
    },
    "en": {
        "motto1": "SOCIALIST REPUBLIC OF VIET NAM", "motto2": "Independence - Freedom - Happiness",
        "title": "COMPILED COMMENTS", "on_draft": "on the draft",
        "number": "No.", "page": "Page", "quote": "Draft text", "comment": "Comment",
        "author": "Delegate", "kind": "Kind", "response": "Response",
        "version": "version", "deadline": "Deadline for comments", "total": "Comments",
        "office": "DRAFTING OFFICE", "answer_text": "Response text", "page_of": "Page",
        "kinds": {"editorial": "Editorial", "substantive": "Substantive", "agree": "Agrees",
                  "disagree": "Disagrees"},
        "responses": {"accepted": "Accepted", "explained": "Explained",
                      "not_accepted": "Not accepted", None: "Not answered"},
    },
}


@dataclass
class Row:
    number: int
    page: int
    quote: str
    kind: str
    authors: list[str]
    texts: list[str]  # the comment's, then its duplicates'
    response: str | None
    response_text: str


@dataclass
class Report:
    language: str
    labels: dict
    body: str
    meeting_title: str
    reference: str
    place: str
    title: str
    document_title: str
    version: int
    deadline: object
    comments: int
    rows: list[Row] = field(default_factory=list)


def labels(language: str) -> dict:
    return LABELS.get(language, LABELS["vi"])


def compile_report(actor: Actor | None, comment_period_id: int, language: str = "vi") -> Report:
    """The report of a comment_period, for staff of its meeting (NotFound/Forbidden otherwise)."""
    comment_period = db.session.get(CommentPeriod, comment_period_id)
    if comment_period is None:
        raise NotFound("No such comment_period.")
    meeting = get_meeting(comment_period.meeting_id, actor, Permission.STAFF_VIEW)
    return build(comment_period, meeting, language)


def build(comment_period: CommentPeriod, meeting: Meeting, language: str = "vi") -> Report:
    found = comment_service.office_comments(comment_period)
    version = db.session.get(DocumentVersion, comment_period.version_id)
    document = db.session.get(Document, comment_period.document_id)
    names = {c.id: comment_service.author_name(c) for c in found}
    duplicates: dict[str, list] = {}
    for comment in found:
        if comment.merged_into_id:
            duplicates.setdefault(comment.merged_into_id, []).append(comment)
    L = labels(language)
    report = Report(language, L, meeting.body, meeting.title, meeting.reference, meeting.place,
                    comment_period.title, document.title, version.number, comment_period.deadline,
                    len(found))
    for comment in (c for c in found if not c.merged_into_id):
        group = [comment, *duplicates.get(comment.id, [])]
        report.rows.append(Row(
            number=len(report.rows) + 1, page=comment.page_number, quote=comment.quote,
            kind=L["kinds"][comment.kind.value],
            authors=list(dict.fromkeys(names[c.id] for c in group)),
            texts=[c.text for c in group if c.text],
            response=L["responses"][comment.response.value if comment.response else None],
            response_text=comment.response_text))
    return report
