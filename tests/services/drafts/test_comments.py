"""Drafts open for comment: audience, anchoring, privacy, the deadline, idempotent saves."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from server.errors import Conflict, Forbidden, InvalidInput, NotFound
from server.extensions import db
from server.models import (
    AuditEntry, CommentKind, CommentPeriodAudience, DraftComment, MeetingEvent, utcnow,
)
from server.schemas.drafts import CommentPeriodIn
from server.services.drafts import comments, compilation, comment_periods
from server.services.drafts.comments import CommentFields
from tests.services.drafts.conftest import open_for_comments


def comment(actor, comment_period, *, page=1, region=(0.05, 0.1, 0.95, 0.2),
            kind=CommentKind.SUBSTANTIVE, text="Đề nghị giảm tổng vốn xuống 1.000 tỷ đồng.",
            comment_id=None):
    saved = comments.save_comment(actor, comment_id or str(uuid.uuid4()),
                                  CommentFields(comment_period.id, page, region, kind, text))
    db.session.commit()
    return saved


def test_a_comment_is_anchored_to_the_page_and_the_words_in_its_region(draft):
    comment_period = open_for_comments(draft)
    saved = comment(draft.alice, comment_period, region=(0.05, 0.1, 0.95, 0.16))
    assert saved.page_number == 1
    assert saved.quote == "Điều 1. Phê duyệt kế hoạch đầu tư công năm 2027"
    whole = comment(draft.alice, comment_period, page=2, region=None, kind=CommentKind.AGREE, text="")
    assert whole.quote == "Điều 2. Hội đồng nhân dân tỉnh giao Ủy ban nhân dân\n" \
                          "tổ chức thực hiện Nghị quyết"


def test_saving_again_changes_nothing_and_another_delegates_id_is_not_found(draft):
    comment_period = open_for_comments(draft)
    comment_id = str(uuid.uuid4())
    comment(draft.alice, comment_period, comment_id=comment_id)
    entries = db.session.query(AuditEntry).count()
    events = db.session.query(MeetingEvent).count()
    comment(draft.alice, comment_period, comment_id=comment_id)
    assert db.session.query(AuditEntry).count() == entries
    assert db.session.query(MeetingEvent).count() == events
    with pytest.raises(NotFound):
        comment(draft.bao, comment_period, comment_id=comment_id, text="Chiếm ý kiến")
    db.session.rollback()
    assert db.session.get(DraftComment, comment_id).text.startswith("Đề nghị giảm")


def test_a_delegate_reads_only_their_own_and_the_published_comments(draft):
    comment_period = open_for_comments(draft)
    mine = comment(draft.alice, comment_period)
    theirs = comment(draft.bao, comment_period, text="Ý kiến riêng của Bảo")
    _seen, listed = comments.list_comments(draft.alice, comment_period.id)
    assert [c.id for c in listed] == [mine.id]
    _seen, office = comments.list_comments(draft.secretary, comment_period.id)
    assert {c.id for c in office} == {mine.id, theirs.id}
    compilation.set_published(draft.secretary, theirs.id, True)
    db.session.commit()
    _seen, listed = comments.list_comments(draft.alice, comment_period.id)
    assert {c.id for c in listed} == {mine.id, theirs.id}
    # The private comment's event went to the office and its author only.
    audiences = {e.audience for e in db.session.scalars(select(MeetingEvent).where(
        MeetingEvent.type == "draft.comment.saved"))
        if e.payload["id"] == mine.id}
    assert audiences == {"staff", f"participant:{draft.participants['alice'].id}"}


def test_after_the_deadline_a_comment_is_refused_with_a_clear_code(draft):
    comment_period = open_for_comments(draft)
    saved = comment(draft.alice, comment_period)
    comment_periods.update_comment_period(draft.secretary, comment_period.id, utcnow() - timedelta(minutes=1))
    db.session.commit()
    with pytest.raises(Conflict) as refused:
        comment(draft.alice, comment_period, comment_id=saved.id, text="Sửa sau hạn")
    assert refused.value.code == "comment_period_closed"
    with pytest.raises(Conflict):
        comment(draft.bao, comment_period)


@pytest.mark.parametrize("audience, who, allowed", [
    (CommentPeriodAudience.DELEGATES, "alice", True),
    (CommentPeriodAudience.DELEGATES, "chair", True),
    (CommentPeriodAudience.DELEGATES, "observer", False),
    (CommentPeriodAudience.STAFF, "alice", False),
    (CommentPeriodAudience.STAFF, "chair", True),
    (CommentPeriodAudience.NAMED, "alice", True),
    (CommentPeriodAudience.NAMED, "bao", False),
])
def test_only_the_audience_comments(draft, audience, who, allowed):
    members = [draft.participants["alice"].id] if audience == CommentPeriodAudience.NAMED else []
    comment_period = open_for_comments(draft, audience=audience, members=members)
    actor = getattr(draft, who)
    if allowed:
        assert comment(actor, comment_period).participant_id == draft.participants[who].id
        return
    with pytest.raises((Forbidden, NotFound)):
        comment(actor, comment_period)


def test_staff_accounts_and_strangers_cannot_comment(draft):
    from server.models import MeetingStatus, Role
    from server.services.actors import Actor
    from tests import factories

    comment_period = open_for_comments(draft)
    with pytest.raises(Forbidden):
        comment(draft.secretary, comment_period)
    db.session.rollback()
    other = factories.make_meeting(status=MeetingStatus.PUBLISHED)
    stranger = factories.make_user(Role.DELEGATE)
    factories.make_participant(other, user=stranger)
    with pytest.raises(NotFound):
        comment(Actor.of_user(stranger), comment_period)


def test_opening_checks_its_input(draft):
    with pytest.raises(InvalidInput):
        comment_periods.open_comment_period(draft.secretary, draft.document.id, CommentPeriodIn(
            deadline=utcnow() - timedelta(hours=1)))
    db.session.rollback()
    with pytest.raises(InvalidInput):
        comment_periods.open_comment_period(draft.secretary, draft.document.id, CommentPeriodIn(
            deadline=utcnow() + timedelta(hours=1), audience="named", members=[999999]))
    db.session.rollback()
    with pytest.raises(Forbidden):
        comment_periods.open_comment_period(draft.alice, draft.document.id, CommentPeriodIn(
            deadline=utcnow() + timedelta(hours=1)))
    db.session.rollback()
    open_for_comments(draft)
    with pytest.raises(Conflict):
        open_for_comments(draft)


def test_the_text_of_a_comment_stays_out_of_the_audit_chain(draft):
    comment_period = open_for_comments(draft)
    comment(draft.alice, comment_period, text="Nội dung góp ý bí mật 4711")
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "draft.comment")).one()
    assert "4711" not in str(entry.payload) and entry.payload["kind"] == "substantive"


def test_a_sealed_meeting_takes_no_more_comments_nor_answers(draft):
    from server.models import CommentResponse, MeetingStatus

    comment_period = open_for_comments(draft)
    saved = comment(draft.alice, comment_period)
    draft.meeting.status = MeetingStatus.SEALED
    db.session.commit()
    with pytest.raises(Conflict) as refused:
        comment(draft.alice, comment_period, comment_id=saved.id, text="Sửa sau niêm phong")
    assert refused.value.code == "sealed"
    db.session.rollback()
    with pytest.raises(Forbidden):
        compilation.respond(draft.secretary, saved.id, CommentResponse.ACCEPTED, "")
    db.session.rollback()
    _seen, office = comments.list_comments(draft.secretary, comment_period.id)
    assert [c.id for c in office] == [saved.id]  # still readable for the record
