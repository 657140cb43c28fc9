"""Minutes: drafted from the record, edited, finalised with the audit head of that moment."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from server.errors import Conflict, Forbidden, NotFound
from server.extensions import db
from server.models import (
    AuditEntry, MeetingStatus, MinutesStatus, Poll, PollOption, PollStatus, Role,
)
from server.services import audit
from server.services.minutes import minutes as minutes_service
from server.services.actors import Actor
from server.services.archive.demo_record import seed_held_meeting
from server.services.minutes.minutes import MinutesEdit
from server.services.minutes.draft import poll_summary
from server.services.minutes.verify import stated_audit_head
from tests import factories

SYSTEM = Actor.system()


@pytest.fixture
def held(app):
    meeting, chair, secretary = seed_held_meeting()
    db.session.commit()
    return meeting


def _item(sections, title):
    return next(i for i in sections["items"] if i["title"] == title)


def test_draft_carries_the_whole_record(held):
    minutes = minutes_service.draft_minutes(held.id, SYSTEM)
    s = minutes.sections
    assert s["meeting"]["body"] == "Hội đồng nhân dân tỉnh Lâm Đồng"
    assert s["meeting"]["opened_at"].startswith(held.session_opened_at.date().isoformat())
    attendance = s["attendance"]
    assert [len(attendance[k]) for k in ("present", "excused", "absent")] == [5, 1, 1]
    assert attendance["excused"][0]["excuse"] == "Đi công tác nước ngoài"
    assert (attendance["members"], attendance["present_members"]) == (6, 4)
    assert attendance["quorum_reached"] is True  # 4 of 6 > half
    assert [i["number"] for i in s["items"]] == ["1", "2", "2.1", "3", "4"]
    assert _item(s, "Thảo luận tại hội trường")["level"] == 1
    speakers = _item(s, "Thảo luận tại hội trường")["speakers"]
    assert [sp["name"] for sp in speakers] == ["Nguyễn Thị Ngọc Diễm", "Trần Văn Lữ"]
    assert speakers[1]["seconds"] == 200
    report = _item(s, "Báo cáo tình hình kinh tế - xã hội năm 2026")["documents"][0]
    assert report["version"] == 1 and len(report["sha256"]) == 64
    vote = _item(s, "Nghị quyết về kế hoạch đầu tư công năm 2027")
    poll = vote["polls"][0]
    assert [(o["label"], o["count"]) for o in poll["options"]] == [
        ("Tán thành", "3"), ("Không tán thành", "1"), ("Không biểu quyết", "0")]
    assert poll["passed"] is True and poll["cast"] == "4"
    assert vote["decision"].startswith("Hội đồng nhân dân tỉnh thông qua")
    election = _item(s, "Bầu Ủy viên Ủy ban nhân dân tỉnh")["polls"][0]
    assert election["kind"] == "secret" and election["elected"] == ["c1"]


@pytest.mark.parametrize("result, expected", [
    ({"totals": {"yes": {"count": 2, "weight": "2.5"}}, "passed": False}, ("2", "2.5", False)),
    ({"options": [{"key": "yes", "votes": 4}], "outcome": "adopted"}, ("4", "4", True)),
    ({"counts": {"yes": 3}, "weights": {"yes": "3.0000"}}, ("3", "3", None)),
    ({"totals": "garbage", "passed": "yes"}, (None, None, None)),
    ({"outcome": "no_quorum", "passed": True}, (None, None, False)),
    (None, (None, None, None)),
])
def test_poll_results_are_read_defensively(app, result, expected):
    meeting = factories.make_meeting(status=MeetingStatus.CLOSED)
    poll = Poll(meeting_id=meeting.id, motion="Thông qua", status=PollStatus.CLOSED, result=result,
                options=[PollOption(key="yes", label="Tán thành")])
    db.session.add(poll)
    db.session.commit()
    summary = poll_summary(poll)
    option = summary["options"][0]
    assert (option["count"], option["weight"], summary["passed"]) == expected


def test_secretary_edits_and_a_new_draft_keeps_them(held):
    minutes = minutes_service.draft_minutes(held.id, SYSTEM)
    item = _item(minutes.sections, "Khai mạc kỳ họp")
    minutes_service.edit_minutes(held.id, SYSTEM, MinutesEdit(
        opening="Chủ tọa khai mạc.", free_text="Ý kiến khác: không có.",
        items={item["id"]: {"notes": "Ghi chú của thư ký", "decision": "Thống nhất"}}))
    db.session.commit()
    minutes = minutes_service.draft_minutes(held.id, SYSTEM)  # drafted again from the record
    again = _item(minutes.sections, "Khai mạc kỳ họp")
    assert (again["notes"], again["decision"]) == ("Ghi chú của thư ký", "Thống nhất")
    assert minutes.sections["opening"] == "Chủ tọa khai mạc."
    assert minutes.free_text == "Ý kiến khác: không có."
    with pytest.raises(NotFound):
        minutes_service.edit_minutes(held.id, SYSTEM, MinutesEdit(items={999999: {"notes": "x"}}))


def test_edit_schema_refuses_unknown_fields():
    with pytest.raises(ValueError):
        MinutesEdit.model_validate({"attendance": {"present": []}})


def test_only_preparers_draft(held):
    delegate = factories.make_user(Role.DELEGATE)
    factories.make_participant(held, user=delegate)
    with pytest.raises((Forbidden, NotFound)):
        minutes_service.draft_minutes(held.id, Actor.of_user(delegate))


def test_finalise_states_the_audit_head_of_that_moment(held):
    minutes_service.draft_minutes(held.id, SYSTEM)
    db.session.commit()
    head_before = audit.head()
    minutes = minutes_service.finalise_minutes(held.id, SYSTEM)
    db.session.commit()
    assert minutes.status == MinutesStatus.FINAL
    assert minutes.audit_head == head_before
    pdf = minutes_service.current_pdf(minutes)
    assert stated_audit_head(pdf) == head_before
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "minutes.finalised"))
    assert entry.prev_hash == head_before and entry.payload["audit_head"] == head_before
    assert audit.verify().ok
    with pytest.raises(Conflict):
        minutes_service.edit_minutes(held.id, SYSTEM, MinutesEdit(opening="changed"))
    with pytest.raises(Conflict):
        minutes_service.draft_minutes(held.id, SYSTEM)


def test_finalise_needs_a_closed_session(app):
    meeting = factories.make_meeting(status=MeetingStatus.IN_SESSION,
                                     session_opened_at=datetime.now(timezone.utc))
    minutes_service.draft_minutes(meeting.id, SYSTEM)
    with pytest.raises(Conflict) as error:
        minutes_service.finalise_minutes(meeting.id, SYSTEM)
    assert error.value.code == "session_open"


def test_draft_meeting_has_no_minutes(app):
    meeting = factories.make_meeting()
    with pytest.raises(Conflict):
        minutes_service.draft_minutes(meeting.id, SYSTEM)


def test_preview_is_marked_draft(held):
    minutes_service.draft_minutes(held.id, SYSTEM)
    import pymupdf

    with pymupdf.open("pdf", minutes_service.preview_pdf(held.id, SYSTEM)) as doc:
        assert all("DỰ THẢO" in page.get_text() for page in doc)


def test_blob_store_detects_corruption(app):
    sha = minutes_service.store_blob(b"%PDF-1.7 test")
    from server.services.documents import storage

    storage.blob_path(sha).write_bytes(b"%PDF-1.7 tampered")
    with pytest.raises(Conflict):
        minutes_service.read_blob(sha)
