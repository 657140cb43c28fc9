"""Participants: add, edit, proxies, remove, and the all-or-nothing CSV import."""
from __future__ import annotations

import unicodedata
from decimal import Decimal

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select

from server.errors import Conflict, Forbidden, InvalidInput, NotFound
from server.extensions import db
from server.models import AuditEntry, MeetingRole, MeetingStatus, Participant, Role
from server.schemas.meetings import ParticipantCreate, ParticipantUpdate
from server.services.meetings import participants
from server.services.actors import Actor
from server.services.meetings.participant_import import MAX_ROWS, CsvRejected, import_csv
from tests import factories


@pytest.fixture
def staff(secretary):
    return Actor.of_user(secretary)


@pytest.fixture
def meeting(app):
    return factories.make_meeting(proxy_limit=1)


def count(meeting):
    return db.session.scalar(select(func.count()).where(Participant.meeting_id == meeting.id))


def test_add_from_the_directory_and_by_name(meeting, staff):
    user = factories.make_user(full_name="Nguyễn Thị Hồng Nhung", email="nhung@example.vn")
    from_user = participants.add_participant(meeting.id, staff, ParticipantCreate(user_id=user.id))
    by_name = participants.add_participant(meeting.id, staff, ParticipantCreate(
        full_name="Trần  Đức Lương", role=MeetingRole.OBSERVER))
    db.session.commit()
    assert (from_user.full_name, from_user.email) == ("Nguyễn Thị Hồng Nhung", "nhung@example.vn")
    assert by_name.full_name == "Trần Đức Lương"
    assert by_name.voting_right is False  # observers do not vote unless told so
    assert participants.participant_out(from_user).username == user.username
    actions = db.session.scalars(select(AuditEntry.action)).all()
    assert actions == ["participant.added", "participant.added"]


def test_same_user_or_seat_twice_is_a_conflict(meeting, staff):
    user = factories.make_user()
    participants.add_participant(meeting.id, staff, ParticipantCreate(user_id=user.id, seat="A1"))
    with pytest.raises(Conflict):
        participants.add_participant(meeting.id, staff, ParticipantCreate(user_id=user.id))
    with pytest.raises(Conflict):
        participants.add_participant(meeting.id, staff, ParticipantCreate(full_name="X", seat="A1"))


def test_unknown_user_is_invalid(meeting, staff):
    with pytest.raises(InvalidInput) as excinfo:
        participants.add_participant(meeting.id, staff, ParticipantCreate(user_id=999))
    assert "user_id" in excinfo.value.fields


@pytest.mark.parametrize("data", [
    {}, {"full_name": ""}, {"full_name": "x" * 201}, {"full_name": "A", "weight": 0},
    {"full_name": "A", "weight": -1}, {"full_name": "A", "weight": 1001},
    {"full_name": "A", "weight": "nhiều"}, {"full_name": "A", "weight": "NaN"},
    {"full_name": "A", "role": "king"}, {"full_name": "A", "email": "not-an-email"},
    {"full_name": "A", "voting_right": "maybe"}, {"full_name": "A", "seat": "x" * 21},
    {"full_name": "A", "proxy_holder_id": "one"}, {"full_name": ["A"]},
])
def test_participant_input_is_validated(data):
    with pytest.raises(ValidationError):
        ParticipantCreate.model_validate(data)


def test_edit_role_voting_right_weight(meeting, staff):
    person = factories.make_participant(meeting)
    participants.update_participant(meeting.id, person.id, staff, ParticipantUpdate(
        role=MeetingRole.CHAIR, weight=Decimal("2.5"), seat="B2", position="Chủ tịch"))
    db.session.commit()
    assert (person.role, person.weight, person.seat) == (MeetingRole.CHAIR, Decimal("2.5"), "B2")
    entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
    assert entry.action == "participant.updated" and entry.payload["changed"]["weight"] == 2.5


@pytest.mark.parametrize("case", [
    "self", "no_vote_holder", "no_vote_giver", "holder_gave_proxy", "giver_holds_proxy",
    "limit", "other_meeting", "unknown",
])
def test_proxy_rules(meeting, staff, case):
    giver = factories.make_participant(meeting, full_name="Người ủy quyền")
    holder = factories.make_participant(meeting, full_name="Người nhận")
    target = holder.id
    if case == "self":
        target = giver.id
    elif case == "no_vote_holder":
        holder.voting_right = False
    elif case == "no_vote_giver":
        giver.voting_right = False
    elif case == "holder_gave_proxy":
        holder.proxy_holder_id = factories.make_participant(meeting).id
    elif case == "giver_holds_proxy":
        factories.make_participant(meeting, proxy_holder_id=giver.id)
    elif case == "limit":
        factories.make_participant(meeting, proxy_holder_id=holder.id)
    elif case == "other_meeting":
        target = factories.make_participant(factories.make_meeting()).id
    elif case == "unknown":
        target = 9999
    db.session.commit()
    with pytest.raises(InvalidInput) as excinfo:
        participants.update_participant(meeting.id, giver.id, staff,
                                        ParticipantUpdate(proxy_holder_id=target))
    assert "proxy_holder_id" in excinfo.value.fields
    db.session.rollback()
    assert db.session.get(Participant, giver.id).proxy_holder_id is None


def test_valid_proxy_and_its_consequences(meeting, staff):
    giver = factories.make_participant(meeting)
    holder = factories.make_participant(meeting)
    participants.update_participant(meeting.id, giver.id, staff,
                                    ParticipantUpdate(proxy_holder_id=holder.id))
    db.session.commit()
    assert giver.proxy_holder_id == holder.id
    with pytest.raises(InvalidInput) as excinfo:  # the holder must keep their vote
        participants.update_participant(meeting.id, holder.id, staff,
                                        ParticipantUpdate(voting_right=False))
    assert "voting_right" in excinfo.value.fields
    db.session.rollback()
    participants.remove_participant(meeting.id, holder.id, staff)
    db.session.commit()
    assert db.session.get(Participant, giver.id).proxy_holder_id is None


def test_other_meetings_participants_are_not_found(meeting, staff):
    foreign = factories.make_participant(factories.make_meeting())
    with pytest.raises(NotFound):
        participants.update_participant(meeting.id, foreign.id, staff, ParticipantUpdate(seat="1"))
    with pytest.raises(NotFound):
        participants.remove_participant(meeting.id, foreign.id, staff)


def test_delegates_cannot_manage_participants(app):
    user = factories.make_user(Role.DELEGATE)
    meeting = factories.make_meeting(status=MeetingStatus.PUBLISHED)
    factories.make_participant(meeting, user=user)
    with pytest.raises(Forbidden):
        participants.add_participant(meeting.id, Actor.of_user(user),
                                     ParticipantCreate(full_name="X"))
    with pytest.raises(Forbidden):
        participants.list_participants(meeting.id, Actor.of_user(user))


# --- CSV import ---------------------------------------------------------------------------

GOOD_CSV = (
    "full_name,email,position,role,voting_right,weight,seat,username\n"
    "Nguyễn Thị Hồng Nhung,nhung@example.vn,Chủ tịch HĐND,chair,yes,1,A1,\n"
    "Trần Đức Lương,,Đại biểu,delegate,có,\"1,5\",A2,\n"
    "Lê Văn Tám,,Chuyên viên,observer,,,,\n"
)


def test_import_a_good_file(meeting, staff):
    created = import_csv(meeting.id, staff, GOOD_CSV.encode())
    db.session.commit()
    assert [p.full_name for p in created] == ["Nguyễn Thị Hồng Nhung", "Trần Đức Lương", "Lê Văn Tám"]
    assert [p.role for p in created] == [MeetingRole.CHAIR, MeetingRole.DELEGATE, MeetingRole.OBSERVER]
    assert [p.voting_right for p in created] == [True, True, False]
    assert created[1].weight == Decimal("1.5")
    entry = db.session.scalars(select(AuditEntry)).one()
    assert (entry.action, entry.payload["count"]) == ("participant.imported", 3)


def test_import_semicolons_bom_nfd_and_vietnamese_headers(meeting, staff):
    user = factories.make_user(username="nhung", full_name="Nguyễn Thị Hồng Nhung")
    text = ("Họ và tên;Chức vụ;Vai trò;Trọng số;Tên đăng nhập\r\n"
            ";Chủ tịch;Chủ tọa;2,5;NHUNG\r\n"
            + unicodedata.normalize("NFD", "Trần Đức Lương") + ";;đại biểu;;\r\n")
    created = import_csv(meeting.id, staff, b"\xef\xbb\xbf" + text.encode())
    assert created[0].user_id == user.id and created[0].full_name == "Nguyễn Thị Hồng Nhung"
    assert created[0].role == MeetingRole.CHAIR and created[0].weight == Decimal("2.5")
    assert created[1].full_name == unicodedata.normalize("NFC", "Trần Đức Lương")


BAD_FILES = {
    # "Trần Văn A" as Windows' Vietnamese code page writes it.
    "cp1258": ("full_name\nTr\u00e2\u0300n V\u0103n A\n".encode("cp1258"), 2, None),
    "latin1": ("full_name,position\nJosé,Señor\n".encode("latin-1"), 2, None),
    "empty": (b"", 1, None),
    "blank": (b"  \n\n", 1, None),
    "header_only": (b"full_name,email\n", 2, None),
    "missing_column": (b"email,position\na@b.vn,x\n", 1, "full_name"),
    "unknown_column": (b"full_name,wieght\nA,1\n", 1, "wieght"),
    "bad_weight": ("full_name,weight\nAn,1\nBình,nhiều\n".encode(), 3, "weight"),
    "zero_weight": (b"full_name,weight\nAn,0\n", 2, "weight"),
    "bad_role": (b"full_name,role\nAn,king\n", 2, "role"),
    "bad_voting_right": (b"full_name,voting_right\nAn,maybe\n", 2, "voting_right"),
    "empty_name": (b"full_name,email\n,a@b.vn\n", 2, "full_name"),
    "long_name": (b"full_name\n" + b"A" * 201 + b"\n", 2, "full_name"),
    "bad_email": (b"full_name,email\nAn,not-an-email\n", 2, "email"),
    "unknown_username": (b"full_name,username\nAn,nobody\n", 2, "username"),
    "cell_count": (b"full_name,email\nAn,a@b.vn,extra\n", 2, None),
    "duplicate_rows": ("full_name,position\nAn,Ủy viên\nBình,\nan,ủy viên\n".encode(), 4, "full_name"),
    "duplicate_email": (b"full_name,email\nAn,a@b.vn\nBinh,A@B.VN\n", 3, "email"),
    "duplicate_seat": (b"full_name,seat\nAn,A1\nBinh,A1\n", 3, "seat"),
    "duplicate_existing": ("full_name\nĐã Có\n".encode(), 2, "full_name"),
    "too_many_rows": (("full_name\n" + "".join(f"Người {i}\n" for i in range(MAX_ROWS + 1))).encode(),
                      MAX_ROWS + 2, None),
    "too_large": (b"full_name\n" + b"A,\n" * 400_000, 1, None),
}


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_bad_files_import_nothing_and_say_where(meeting, staff, name):
    data, line, column = BAD_FILES[name]
    factories.make_participant(meeting, full_name="Đã Có")
    before = count(meeting)
    with pytest.raises(CsvRejected) as excinfo:
        import_csv(meeting.id, staff, data)
    db.session.rollback()
    assert count(meeting) == before
    assert (line, column) in {(p.line, p.column) for p in excinfo.value.problems}, excinfo.value.problems
    assert excinfo.value.status == 422


def test_one_bad_row_among_good_ones_imports_nothing(meeting, staff):
    data = GOOD_CSV + "Phạm Văn Đồng,,,delegate,yes,-2,,\n"
    with pytest.raises(CsvRejected) as excinfo:
        import_csv(meeting.id, staff, data.encode())
    db.session.rollback()
    assert count(meeting) == 0
    assert [(p.line, p.column) for p in excinfo.value.problems] == [(5, "weight")]


def test_all_problems_are_reported_together(meeting, staff):
    data = b"full_name,weight,role\nAn,x,delegate\n,1,king\n"
    with pytest.raises(CsvRejected) as excinfo:
        import_csv(meeting.id, staff, data)
    assert {(p.line, p.column) for p in excinfo.value.problems} == {
        (2, "weight"), (3, "full_name"), (3, "role")}
