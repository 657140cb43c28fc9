"""A meeting with a draft resolution (Vietnamese text, two pages) and its people."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pymupdf
import pytest

from server.extensions import db
from server.models import AttendanceStatus, MeetingRole, MeetingStatus, Role, utcnow
from server.pdf.fonts_minutes import font_path
from server.schemas.drafts import CommentPeriodIn
from server.services.actors import Actor
from server.services.drafts import comment_periods
from tests import factories
from tests.services.documents.test_annotations import make_document

PAGE_LINES = {
    1: ["Điều 1. Phê duyệt kế hoạch đầu tư công năm 2027", "Tổng vốn: 1.250 tỷ đồng"],
    2: ["Điều 2. Hội đồng nhân dân tỉnh giao Ủy ban nhân dân", "tổ chức thực hiện Nghị quyết"],
}


def draft_pdf() -> bytes:
    doc = pymupdf.open()
    for number, lines in PAGE_LINES.items():
        page = doc.new_page(width=595, height=842)
        for index, line in enumerate(lines):
            page.insert_text((72, 120 + 40 * index), line, fontsize=14, fontname="Noto",
                             fontfile=font_path())
    return doc.tobytes()


@dataclass
class Draft:
    meeting: object
    document: object
    secretary: Actor
    chair: Actor
    alice: Actor  # a delegate
    bao: Actor  # another delegate
    observer: Actor
    participants: dict


def open_for_comments(draft: Draft, **fields):
    fields.setdefault("deadline", utcnow() + timedelta(days=2))
    comment_period = comment_periods.open_comment_period(draft.secretary, draft.document.id,
                                                   CommentPeriodIn(**fields))
    db.session.commit()
    return comment_period


@pytest.fixture
def draft(app):
    secretary = factories.make_user(Role.SECRETARY)
    meeting = factories.make_meeting(status=MeetingStatus.PUBLISHED, created_by=secretary)
    people = {}
    for key, role in (("chair", MeetingRole.CHAIR), ("alice", MeetingRole.DELEGATE),
                      ("bao", MeetingRole.DELEGATE), ("observer", MeetingRole.OBSERVER)):
        user = factories.make_user(Role.DELEGATE if role != MeetingRole.CHAIR else Role.CHAIR,
                                   full_name={"alice": "Nguyễn Thị Ánh", "bao": "Trần Văn Bảo",
                                              "chair": "Lê Văn Chủ", "observer": "Phạm Khách"}[key])
        people[key] = (user, factories.make_participant(meeting, user=user, role=role,
                                                        attendance=AttendanceStatus.PRESENT))
    item = factories.make_item(meeting, "Dự thảo Nghị quyết về đầu tư công")
    document = make_document(meeting, draft_pdf(), title="Dự thảo Nghị quyết đầu tư công",
                             agenda_item=item)
    return Draft(meeting, document, Actor.of_user(secretary),
                 *(Actor.of_user(people[k][0]) for k in ("chair", "alice", "bao", "observer")),
                 {k: p for k, (_u, p) in people.items()})
