"""An amendment from tabling to the adopted text, through ordinary polls."""
from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import select

from server.errors import Conflict, Forbidden, InvalidInput, NotFound
from server.extensions import db
from server.models import AmendmentStatus, AuditEntry
from server.schemas.amendments import AdmitIn, AmendmentIn, DraftTextIn, QueueIn, VoteIn
from server.pdf.minutes import minutes_html
from server.services.archive import record as archive_record
from server.services.minutes.draft import draft_sections
from server.services.amendments import adoption, tabling, texts, views
from server.services.voting import ballots, polls
from tests.services.drafts.conftest import draft  # noqa: F401  (the fixture)

TEXT = """Điều 1. Phê duyệt kế hoạch đầu tư công năm 2027.
Tổng vốn: 1.250 tỷ đồng.
Điều 2. Ủy ban nhân dân tỉnh tổ chức thực hiện.
Điều 3. Nghị quyết có hiệu lực từ ngày ký."""
RULES = VoteIn(quorum_required=False)


def enter(draft):  # noqa: F811
    entered = texts.enter_draft(draft.secretary, draft.meeting.id,
                                DraftTextIn(title="Nghị quyết đầu tư công", text=TEXT))
    db.session.commit()
    return entered


def vote_and_publish(draft, poll, choice):  # noqa: F811
    for voter in (draft.chair, draft.alice, draft.bao):
        ballots.cast_ballot(voter, poll.id, uuid.uuid4(), [choice])
        db.session.commit()
    polls.close_poll(draft.chair, poll.id)
    polls.publish_poll(draft.chair, poll.id)
    db.session.commit()


def test_amendments_adopted_rejected_lapsed_then_the_whole(draft, tmp_path):  # noqa: F811
    text = enter(draft)
    assert [line["number"] for line in views.draft_payload(text)["lines"]] == [1, 2, 3, 4]
    money = tabling.table_amendment(draft.alice, text.id, AmendmentIn(
        line_from=2, line_to=2, new_text="Tổng vốn: 1.000 tỷ đồng.", reasons="Cân đối ngân sách.",
        cosigners=[draft.participants["bao"].id]))
    same_line = tabling.table_amendment(draft.bao, text.id, AmendmentIn(
        line_from=2, line_to=3, new_text="Tổng vốn: 900 tỷ đồng.", reasons="Tiết kiệm."))
    late = tabling.table_amendment(draft.bao, text.id, AmendmentIn(
        line_from=4, line_to=4, new_text="", reasons="Không cần."))
    refused = tabling.table_amendment(draft.alice, text.id, AmendmentIn(
        line_from=1, line_to=1, new_text="Điều 1. Sửa.", reasons="Lời văn."))
    db.session.commit()
    assert money.old_text == "Tổng vốn: 1.250 tỷ đồng." and money.number == 1
    for amendment in (money, same_line, late):
        tabling.admit(draft.chair, amendment.id, AdmitIn(admitted=True))
    tabling.admit(draft.secretary, refused.id, AdmitIn(admitted=False, reason="Trùng ý."))
    tabling.reorder(draft.secretary, text.id, [money.id, late.id, same_line.id])
    db.session.commit()

    with pytest.raises(Conflict) as not_first:
        adoption.put_to_vote(draft.chair, late.id, RULES)
    assert not_first.value.code == "earlier_amendment_pending"
    with pytest.raises(Conflict):
        adoption.put_draft_to_vote(draft.chair, text.id, RULES)
    poll = adoption.put_to_vote(draft.chair, money.id, RULES)
    db.session.commit()
    assert views.draft_payload(text)["under_vote_id"] == money.id
    vote_and_publish(draft, poll, "yes")
    with pytest.raises(Conflict) as lapsed:
        adoption.put_to_vote(draft.chair, same_line.id, RULES)
    assert lapsed.value.code == "amendment_lapsed"
    vote_and_publish(draft, adoption.put_to_vote(draft.chair, late.id, RULES), "no")
    db.session.commit()

    view = views.draft_payload(text)
    outcomes = {a["number"]: (a["status"], a["outcome"]) for a in view["amendments"]}
    assert outcomes == {1: ("admitted", "adopted"), 2: ("admitted", "lapsed"),
                        3: ("admitted", "rejected"), 4: ("not_admitted", None)}
    assert view["adopted"]["text"] == TEXT.replace("1.250", "1.000")
    amended = [b for b in view["adopted"]["blocks"] if b["kind"] == "amended"]
    assert amended[0]["diff"] == [{"op": "equal", "text": "Tổng vốn: 1."},
                                  {"op": "del", "text": "250"}, {"op": "ins", "text": "000"},
                                  {"op": "equal", "text": " tỷ đồng."}]
    assert [b["number"] for b in view["adopted"]["blocks"] if b["kind"] == "same"] == [1, 3, 4]

    with pytest.raises(Conflict):  # tabling is over once the whole is put to the vote
        final = adoption.put_draft_to_vote(draft.chair, text.id, RULES)
        db.session.commit()
        tabling.table_amendment(draft.alice, text.id, AmendmentIn(
            line_from=1, line_to=1, new_text="x", reasons="y"))
    db.session.rollback()
    final = views.current_poll(text.final_poll_id)
    vote_and_publish(draft, final, "yes")
    assert views.draft_payload(text)["outcome"] == "adopted"
    sections = draft_sections(draft.meeting, "Asia/Ho_Chi_Minh")
    recorded = [d for block in [*sections["items"], sections["general"]]
                for d in block["draft_texts"]]
    assert recorded[0]["adopted_text"] == TEXT.replace("1.250", "1.000")
    html = minutes_html(sections, "", "vi", "0" * 64)
    assert "Sửa đổi số 1 (dòng 2–2, do đại biểu Nguyễn Thị Ánh, Trần Văn Bảo)" in html
    assert "«Tổng vốn: 1.250 tỷ đồng.» bằng «Tổng vốn: 1.000 tỷ đồng.»" in html
    assert "Toàn văn được thông qua" in html and "không được thông qua" in html
    archive_record._amendments(draft.meeting, tmp_path)
    index = json.loads((tmp_path / "amendments" / "index.json").read_text(encoding="utf-8"))
    assert [a["outcome"] for a in index[0]["amendments"]] == ["adopted", "rejected", "lapsed",
                                                              None]
    assert (tmp_path / "amendments" / f"{text.id}-adopted.txt").read_text(
        encoding="utf-8") == TEXT.replace("1.250", "1.000") + "\n"
    actions = set(db.session.scalars(select(AuditEntry.action)))
    assert {"draft_text.enter", "amendment.table", "amendment.admit", "amendment.queue",
            "amendment.vote", "draft_text.vote"} <= actions


def test_only_members_table_and_only_staff_admit(draft):  # noqa: F811
    text = enter(draft)
    fields = AmendmentIn(line_from=1, line_to=1, new_text="Mới", reasons="Lý do")
    with pytest.raises(Forbidden):
        tabling.table_amendment(draft.observer, text.id, fields)
    with pytest.raises((Forbidden, NotFound)):
        tabling.table_amendment(draft.secretary, text.id, fields)
    with pytest.raises(InvalidInput):
        tabling.table_amendment(draft.alice, text.id, AmendmentIn(
            line_from=1, line_to=9, new_text="x", reasons="y"))
    amendment = tabling.table_amendment(draft.alice, text.id, fields)
    db.session.commit()
    with pytest.raises(Forbidden):
        tabling.admit(draft.bao, amendment.id, AdmitIn(admitted=True))
    with pytest.raises(Forbidden):
        tabling.withdraw(draft.bao, amendment.id)
    with pytest.raises(InvalidInput):
        tabling.reorder(draft.chair, text.id, [amendment.id])  # not admitted
    tabling.withdraw(draft.alice, amendment.id)
    db.session.commit()
    assert amendment.status == AmendmentStatus.WITHDRAWN
    with pytest.raises(Conflict):
        tabling.admit(draft.chair, amendment.id, AdmitIn(admitted=True))
    with pytest.raises(Conflict):
        adoption.put_to_vote(draft.chair, amendment.id, RULES)
    other = tabling.table_amendment(draft.bao, text.id, fields)
    tabling.admit(draft.chair, other.id, AdmitIn(admitted=True))
    db.session.commit()
    with pytest.raises(InvalidInput):  # an amendment is adopted or rejected, not elected
        adoption.put_to_vote(draft.chair, other.id, VoteIn(option_kind="candidates"))
    with pytest.raises(Forbidden):
        adoption.put_to_vote(draft.alice, other.id, RULES)


def test_line_numbers_do_not_shift():
    assert texts.split_lines("a\r\n\r\nb\n\n") == ["a", "", "b"]
    assert QueueIn(amendments=[1, 2]).amendments == [1, 2]
    assert views.word_diff("một hai ba", "một bốn ba") == [
        {"op": "equal", "text": "một "}, {"op": "del", "text": "hai"},
        {"op": "ins", "text": "bốn"}, {"op": "equal", "text": " ba"}]
