"""A complete past meeting, signed and sealed: for the demo and for tests.

``seed_sealed_meeting`` goes through the real services for everything after
the session (draft, edit, finalise, sign twice, seal), so what it produces is
exactly what a secretary and a chair would produce. The session itself
(attendance, speeches, votes) is written as rows, as the live engine leaves them.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from decimal import Decimal

import pymupdf
from sqlalchemy import select

from server.extensions import db
from server.models import (
    AgendaItem, AttendanceStatus, Ballot, Document, DocumentPage, DocumentVersion, Meeting,
    MeetingRole, MeetingStatus, Participant, Poll, PollKind, PollOption, PollOptionKind,
    PollStatus, QuorumRule, Role, SessionState, SpeakerRequest, SpeakerStatus, User,
)
from server.pdf.fonts_minutes import font_path
from server.services import audit
from server.services.minutes import ca, minutes as minutes_service, signing
from server.services.actors import Actor
from server.services.minutes.minutes import MinutesEdit
from server.services.voting import commitment

DEMO_PASSPHRASE = "hemicycle-demo"
BODY = "Hội đồng nhân dân tỉnh Lâm Đồng"
DELEGATES = [("Nguyễn Thị Ngọc Diễm", "Đại biểu tổ Đà Lạt"), ("Trần Văn Lữ", "Đại biểu tổ Bảo Lộc"),
             ("Phạm Thị Kỳ Duyên", "Đại biểu tổ Di Linh"), ("Đặng Văn Hữu", "Đại biểu tổ Đức Trọng"),
             ("Võ Thị Thu Thủy", "Đại biểu tổ Lạc Dương")]
REPORT_TEXT = ("BÁO CÁO TÌNH HÌNH KINH TẾ - XÃ HỘI NĂM 2026\n"
               "Tổng sản phẩm trên địa bàn tỉnh tăng 7,2%. Thu ngân sách đạt 12.500 tỷ đồng.\n"
               "Đường cao tốc Tân Phú - Bảo Lộc đã khởi công; diện tích cà phê ổn định.")


def _user(username: str, full_name: str, role: Role) -> User:
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        user = User(username=username, full_name=full_name, role=role, password_hash=None)
        db.session.add(user)
        db.session.flush()
    return user


def _pdf(text: str) -> bytes:
    with pymupdf.open() as doc:
        page = doc.new_page()
        page.insert_textbox(pymupdf.Rect(60, 60, 540, 780), text, fontsize=12,
                            fontname="NotoSerif", fontfile=font_path())
        doc.subset_fonts()
        return doc.tobytes(garbage=3, deflate=True)


def _document(meeting: Meeting, item: AgendaItem, title: str, text: str) -> None:
    data = _pdf(text)
    document = Document(meeting_id=meeting.id, agenda_item_id=item.id, title=title)
    version = DocumentVersion(number=1, blob_sha256=minutes_service.store_blob(data),
                              filename="bao-cao-kt-xh-2026.pdf", page_count=1, pages_rendered=1)
    version.pages.append(DocumentPage(number=1, width_pt=595, height_pt=842,
                                      content_sha256=version.blob_sha256, text=text))
    document.versions.append(version)
    db.session.add(document)


def _poll(meeting, item, motion, kind, option_kind, options, ballots, result, closed) -> Poll:
    poll = Poll(meeting_id=meeting.id, agenda_item_id=item.id, motion=motion, kind=kind,
                option_kind=option_kind, status=PollStatus.PUBLISHED,
                opened_at=closed - timedelta(minutes=3),
                closed_at=closed, published_at=closed, result=dict(result),
                options=[PollOption(position=n, key=k, label=label)
                         for n, (k, label) in enumerate(options)])
    db.session.add(poll)
    db.session.flush()
    for n, (participant, choices) in enumerate(ballots):
        secret = kind == PollKind.SECRET
        db.session.add(Ballot(poll_id=poll.id, choices=choices, weight=Decimal(1),
                              participant_id=None if secret else participant.id,
                              receipt=f"{poll.id:04d}{n:060d}" if secret else None,
                              cast_at=None if secret else closed - timedelta(minutes=1)))
    db.session.flush()
    # Committed as a real closing does (services/voting/commitment.py).
    key = "receipt" if kind == PollKind.SECRET else "participant_id"
    listed = [{key: b.receipt if kind == PollKind.SECRET else b.participant_id,
               "choices": b.choices, "weight": str(b.weight)} for b in db.session.scalars(
        select(Ballot).where(Ballot.poll_id == poll.id).order_by(Ballot.id))]
    digest = commitment.digest(commitment.stored_lines(poll))
    poll.result = result = {**result, "ballot_list": listed, "ballot_digest": digest}
    audit.record("poll.close", "poll", poll.id, actor=Actor.system(), meeting_id=meeting.id,
                 payload={"ballots": result["ballots"], "totals": result["totals"],
                          "ballot_digest": result["ballot_digest"]})
    return poll


def seed_held_meeting(*, chair: User | None = None, secretary: User | None = None,
                      day: datetime | None = None,
                      passphrase: str = DEMO_PASSPHRASE) -> tuple[Meeting, User, User]:
    """A council meeting held ``day`` (default: 14 days ago) and closed, not yet minuted.

    The chair and the secretary get certificates from the local CA (created
    if missing), their keys under ``passphrase``.
    """
    if ca.ca_certificate() is None:
        ca.init_ca("Hemicycle CA - " + BODY, BODY)
    chair = chair or _user("chutoa.luutru", "Trần Đức Lương", Role.CHAIR)
    secretary = secretary or _user("thuky.luutru", "Lê Thị Thu Hà", Role.SECRETARY)
    for user in (chair, secretary):
        if not user.certificates:
            ca.issue_certificate(user, passphrase)
    day = day or datetime.now(timezone.utc) - timedelta(days=14)
    opened = datetime.combine(day.date(), time(1, 0), tzinfo=timezone.utc)  # 08:00 in Hà Nội
    meeting = Meeting(title="Kỳ họp chuyên đề HĐND tỉnh về kinh tế - xã hội", body=BODY,
                      place="Hội trường Trung tâm Hội nghị tỉnh, Đà Lạt", reference="08/BB-HĐND",
                      starts_at=opened, ends_at=opened + timedelta(hours=4),
                      quorum_rule=QuorumRule.MAJORITY, status=MeetingStatus.CLOSED,
                      session_state=SessionState.ADJOURNED, session_opened_at=opened,
                      session_closed_at=opened + timedelta(hours=3, minutes=15),
                      published_at=opened - timedelta(days=3))
    db.session.add(meeting)
    db.session.flush()
    people = [Participant(meeting_id=meeting.id, user_id=chair.id, full_name=chair.full_name,
                          role=MeetingRole.CHAIR, position="Chủ tịch HĐND tỉnh"),
              Participant(meeting_id=meeting.id, user_id=secretary.id, full_name=secretary.full_name,
                          role=MeetingRole.SECRETARY, voting_right=False,
                          position="Chánh Văn phòng HĐND tỉnh")]
    people += [Participant(meeting_id=meeting.id, full_name=name, position=position)
               for name, position in DELEGATES]
    for n, person in enumerate(people):
        person.attendance = (AttendanceStatus.EXCUSED if n == 5 else AttendanceStatus.ABSENT
                             if n == 6 else AttendanceStatus.PRESENT)
        person.excuse = "Đi công tác nước ngoài" if n == 5 else ""
    db.session.add_all(people)
    titles = ["Khai mạc kỳ họp", "Báo cáo tình hình kinh tế - xã hội năm 2026",
              "Nghị quyết về kế hoạch đầu tư công năm 2027", "Bầu Ủy viên Ủy ban nhân dân tỉnh"]
    items = [AgendaItem(meeting_id=meeting.id, position=n, title=t) for n, t in enumerate(titles)]
    db.session.add_all(items)
    db.session.flush()
    sub = AgendaItem(meeting_id=meeting.id, parent_id=items[1].id, position=0,
                     title="Thảo luận tại hội trường", presenter="Các đại biểu")
    items[1].presenter = "Phó Chủ tịch UBND tỉnh"
    items[2].decision = ("Hội đồng nhân dân tỉnh thông qua Nghị quyết về kế hoạch "
                         "đầu tư công năm 2027.")
    db.session.add(sub)
    db.session.flush()
    _document(meeting, items[1], "Báo cáo tình hình kinh tế - xã hội năm 2026", REPORT_TEXT)
    for n, (person, item) in enumerate([(people[2], sub), (people[3], sub), (people[4], items[2])]):
        start = opened + timedelta(minutes=40 + 12 * n)
        db.session.add(SpeakerRequest(meeting_id=meeting.id, agenda_item_id=item.id,
                                      participant_id=person.id, status=SpeakerStatus.DONE,
                                      requested_at=start - timedelta(minutes=5), started_at=start,
                                      ended_at=start + timedelta(minutes=3, seconds=20 * n)))
    voters = [p for p in people if p.voting_right and p.attendance == AttendanceStatus.PRESENT]
    choices = ["yes", "yes", "yes", "no"]
    _poll(meeting, items[2], "Thông qua Nghị quyết về kế hoạch đầu tư công năm 2027",
          PollKind.NAMED, PollOptionKind.YES_NO_ABSTAIN,
          [("yes", "Tán thành"), ("no", "Không tán thành"), ("abstain", "Không biểu quyết")],
          list(zip(voters, [[c] for c in choices])),
          {"totals": {"yes": {"count": 3, "weight": "3"}, "no": {"count": 1, "weight": "1"},
                      "abstain": {"count": 0, "weight": "0"}},
           "ballots": 4, "ballots_weight": "4", "base": "4", "threshold": "2", "passed": True},
          opened + timedelta(hours=2))
    _poll(meeting, items[3], "Bầu một Ủy viên Ủy ban nhân dân tỉnh", PollKind.SECRET,
          PollOptionKind.CANDIDATES, [("c1", "Hoàng Văn Kỳ"), ("c2", "Lý Thị Mỹ Lệ")],
          list(zip(voters, [["c1"], ["c1"], ["c2"], ["c1"]])),
          {"totals": {"c1": {"count": 3, "weight": "3"}, "c2": {"count": 1, "weight": "1"}},
           "ballots": 4, "ballots_weight": "4", "blank": "0", "base": "4", "threshold": "2",
           "seats": 1, "elected": ["c1"], "tied": [], "unfilled": 0},
          opened + timedelta(hours=3))
    audit.record("session.closed", "meeting", meeting.id, actor=Actor.system(),
                 meeting_id=meeting.id, payload={"seeded": True})
    db.session.flush()
    return meeting, chair, secretary


def seed_sealed_meeting(*, chair: User | None = None, secretary: User | None = None,
                        day: datetime | None = None, language: str = "vi",
                        passphrase: str = DEMO_PASSPHRASE) -> Meeting:
    """A held, minuted, signed and sealed council meeting, committed."""
    meeting, chair, secretary = seed_held_meeting(chair=chair, secretary=secretary, day=day,
                                                  passphrase=passphrase)
    return minute_and_seal(meeting, chair, secretary, language=language, passphrase=passphrase)


def minute_and_seal(meeting: Meeting, chair: User, secretary: User, *, language: str = "vi",
                    passphrase: str = DEMO_PASSPHRASE) -> Meeting:
    """Draft, edit, finalise and sign (chair, then secretary: that seals) the minutes of a
    meeting from ``seed_held_meeting``, with whatever documents were added since; committed."""
    items = {item.position: item for item in meeting.agenda_items if item.parent_id is None}
    system = Actor.system()
    minutes_service.draft_minutes(meeting.id, system, language)
    minutes_service.edit_minutes(meeting.id, system, MinutesEdit(
        locality="Lâm Đồng",
        opening="Chủ tọa tuyên bố khai mạc kỳ họp, giới thiệu chương trình và đại biểu dự họp.",
        adjournment="Biên bản được lập xong lúc 11 giờ 30 phút cùng ngày, đã thông qua tại kỳ họp.",
        items={items[1].id: {"notes": "Các đại biểu thống nhất đánh giá kết quả năm 2026."}}))
    minutes_service.finalise_minutes(meeting.id, system)
    signing.sign_minutes(meeting.id, Actor.of_user(chair), passphrase)
    signing.sign_minutes(meeting.id, Actor.of_user(secretary), passphrase)
    db.session.commit()
    return meeting
