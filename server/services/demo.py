"""The demo data set: a provincial council session in Vietnamese, ready to run."""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from server.extensions import db
from server.models import (
    AgendaItem, Meeting, MeetingRole, MeetingStatus, Participant, QuorumRule, Role, User,
)
from server.services import audit
from server.services.accounts import accounts
from server.services.actors import Actor

DEMO_PASSWORD = "hemicycle-demo"
BODY = "Hội đồng nhân dân tỉnh Lâm Đồng"

STAFF = [
    ("admin", "Quản trị hệ thống", Role.ADMIN),
    ("thuky", "Lê Thị Thu Hà", Role.SECRETARY),
    ("chutoa", "Trần Đức Lương", Role.CHAIR),
]
DELEGATES = [
    "Nguyễn Thị Hồng Nhung", "Phạm Văn Đồng", "Hoàng Thị Loan", "Võ Nguyên Giáp",
    "Đặng Thùy Trâm", "Bùi Xuân Phái", "Ngô Bảo Châu", "Huỳnh Tấn Phát", "Lý Thường Kiệt",
    "Trịnh Công Sơn", "Đỗ Mười", "Dương Thu Hương", "Phan Bội Châu", "Lương Thế Vinh",
    "Mạc Đĩnh Chi", "Chu Văn An", "Hồ Xuân Hương", "Nguyễn Trãi", "Lê Quý Đôn",
    "Tôn Thất Tùng", "Vũ Trọng Phụng", "Đoàn Thị Điểm", "Quách Thị Trang", "Kiều Phương Linh",
    "Âu Cơ Mỹ Ngọc", "Ứng Văn Khải", "Thái Thị Ỷ Lan", "Giáp Văn Thụy", "La Thị Yến",
    "Tạ Quang Bửu",
]
AGENDA = [
    ("Khai mạc kỳ họp", "Trần Đức Lương", 10, []),
    ("Báo cáo tình hình kinh tế - xã hội năm 2026", "Phạm Văn Đồng", 45, [
        ("Báo cáo của Ủy ban nhân dân tỉnh", "Phạm Văn Đồng", 25),
        ("Báo cáo thẩm tra của Ban Kinh tế - Ngân sách", "Hoàng Thị Loan", 20),
    ]),
    ("Dự toán ngân sách nhà nước năm 2027", "Ngô Bảo Châu", 40, []),
    ("Nghị quyết về chính sách hỗ trợ giáo dục vùng khó khăn", "Chu Văn An", 30, []),
    ("Chất vấn và trả lời chất vấn", "Trần Đức Lương", 60, []),
    ("Bế mạc kỳ họp", "Trần Đức Lương", 10, []),
]


def _username(full_name: str, taken: set[str]) -> str:
    import unicodedata

    folded = unicodedata.normalize("NFD", full_name.replace("Đ", "D").replace("đ", "d"))
    ascii_name = "".join(c for c in folded if unicodedata.category(c) != "Mn").lower()
    parts = ascii_name.split()
    base = parts[-1] + "".join(p[0] for p in parts[:-1])
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}{n}"
    taken.add(name)
    return name


DOCUMENTS = [
    # (agenda position, title, confidential, pages of text)
    (1, "Báo cáo tình hình kinh tế - xã hội năm 2026", False, [
        "BÁO CÁO TÌNH HÌNH KINH TẾ - XÃ HỘI NĂM 2026\n\nTổng sản phẩm trên địa bàn tỉnh "
        "(GRDP) ước tăng 7,8% so với năm 2025; thu ngân sách nhà nước đạt 112% dự toán.",
        "Phương hướng, nhiệm vụ năm 2027:\n1. Đẩy mạnh chuyển đổi số trong cơ quan nhà nước.\n"
        "2. Phát triển nông nghiệp công nghệ cao, du lịch Đà Lạt - Lâm Đồng.\n"
        "3. Bảo đảm an sinh xã hội, chăm lo đời sống nhân dân vùng khó khăn.",
    ]),
    (2, "Dự toán ngân sách nhà nước năm 2027", False, [
        "DỰ TOÁN NGÂN SÁCH NHÀ NƯỚC NĂM 2027\n\nTổng thu ngân sách: 14.250 tỷ đồng.\n"
        "Tổng chi ngân sách địa phương: 18.930 tỷ đồng.",
        "Chi đầu tư phát triển: 5.120 tỷ đồng; chi thường xuyên: 12.870 tỷ đồng; "
        "dự phòng ngân sách: 940 tỷ đồng.",
    ]),
    (3, "Dự thảo Nghị quyết về hỗ trợ giáo dục vùng khó khăn (tài liệu mật)", True, [
        "DỰ THẢO NGHỊ QUYẾT\n\nĐiều 1. Hỗ trợ học phí cho học sinh vùng đặc biệt khó khăn.\n"
        "Điều 2. Kinh phí thực hiện từ ngân sách tỉnh.",
    ]),
]


def _demo_pdf(pages: list[str]) -> bytes:
    import pymupdf

    from server.pdf.fonts import ascii_fallback, vietnamese_font_path

    font = vietnamese_font_path()
    with pymupdf.open() as pdf:
        for text in pages:
            page = pdf.new_page(width=595, height=842)
            rect = pymupdf.Rect(60, 70, 535, 780)
            if font:
                page.insert_textbox(rect, text, fontsize=13, fontname="NotoSans", fontfile=font)
            else:  # no Unicode font installed: readable, without diacritics
                page.insert_textbox(rect, ascii_fallback(text), fontsize=13)
        pdf.subset_fonts()
        return pdf.tobytes(garbage=3, deflate=True)


def _seed_documents(meeting: Meeting) -> None:
    """Real documents, through the same validation and storage as an upload."""
    import tempfile
    from pathlib import Path

    from server.schemas.documents import DocumentUpload
    from server.services.documents import documents, storage
    from server.services.documents.ingest import Upload

    items = {i.position: i for i in meeting.agenda_items if i.parent_id is None}
    for position, title, confidential, pages in DOCUMENTS:
        with tempfile.NamedTemporaryFile(dir=storage.temp_dir(), suffix=".pdf",
                                         delete=False) as file:
            file.write(_demo_pdf(pages))
        try:
            documents.upload_document(
                Actor.system(), meeting.id, Upload(Path(file.name), f"{title}.pdf"),
                DocumentUpload(title=title, agenda_item_id=items[position].id,
                               confidential=confidential))
        finally:
            Path(file.name).unlink(missing_ok=True)


def _seed_consultations(secretary: User, members: list[User]) -> None:
    """Two written consultations: one answered by everyone and closed, its report sealed
    by the demo's office seal (B-LTA with the demo TSA); one open, for the delegates."""
    from server.services.consultations import answering, asking, closing, reporting

    office = Actor.of_user(secretary)
    now = datetime.now(timezone.utc)
    done = asking.create(office, asking.ConsultationFields(
        title="Xin ý kiến về việc điều chỉnh kế hoạch đầu tư công năm 2026",
        question="Đồng ý điều chỉnh 12 tỷ đồng từ dự án đường ĐT.725 sang dự án trường học?",
        body="Theo Tờ trình số 45/TTr-UBND của Ủy ban nhân dân tỉnh.",
        closes_at=now + timedelta(hours=1), members={m.id: Decimal(1) for m in members}))
    for n, member in enumerate(members):  # everyone answers: the office closes it early
        choice = "no" if n == 3 else ("abstain" if n == 5 else "yes")
        answering.answer(Actor.of_user(member), done.id, choice,
                         "Đề nghị bổ sung nguồn vốn đối ứng của huyện" if n == 3 else "")
    db.session.commit()
    closing.close_early(office, done.id)
    db.session.commit()
    reporting.issue_pending()
    asking.create(office, asking.ConsultationFields(
        title="Xin ý kiến về dự thảo Quy chế hoạt động của Hội đồng nhân dân tỉnh",
        question="Đồng ý thông qua dự thảo Quy chế?",
        closes_at=now + timedelta(days=3), members={m.id: Decimal(1) for m in members}))
    db.session.commit()


def is_seeded() -> bool:
    return db.session.scalar(select(User).where(User.username == "thuky")) is not None


def seed(today: datetime | None = None) -> Meeting:
    """Create the demo accounts and a published council session; return the meeting."""
    password_hash = accounts.hash_password(DEMO_PASSWORD)
    system = Actor.system()
    users: dict[str, User] = {}
    taken = {u for u, _, _ in STAFF}
    for username, full_name, role in STAFF:
        users[username] = User(username=username, full_name=full_name, role=role,
                               password_hash=password_hash, locale="vi")
    delegates = []
    for full_name in DELEGATES:
        user = User(username=_username(full_name, taken), full_name=full_name,
                    role=Role.DELEGATE, password_hash=password_hash, locale="vi")
        delegates.append(user)
    db.session.add_all([*users.values(), *delegates])
    db.session.flush()

    today = today or datetime.now(timezone.utc)
    start = datetime.combine(today.date(), time(1, 30), tzinfo=timezone.utc)  # 08:30 in Hanoi
    meeting = Meeting(
        title="Kỳ họp thứ 12 Hội đồng nhân dân tỉnh khóa X", body=BODY,
        place="Hội trường Trung tâm Hội nghị tỉnh, Đà Lạt", starts_at=start,
        ends_at=start + timedelta(hours=8), reference="12/BB-HĐND",
        description="Kỳ họp thường lệ cuối năm 2026.", quorum_rule=QuorumRule.TWO_THIRDS,
        proxy_limit=1, status=MeetingStatus.DRAFT, created_by_id=users["thuky"].id,
    )
    db.session.add(meeting)
    db.session.flush()
    participants = [
        Participant(meeting_id=meeting.id, user_id=users["chutoa"].id, full_name="Trần Đức Lương",
                    role=MeetingRole.CHAIR, position="Chủ tịch HĐND tỉnh", seat="C1"),
        Participant(meeting_id=meeting.id, user_id=users["thuky"].id, full_name="Lê Thị Thu Hà",
                    role=MeetingRole.SECRETARY, voting_right=False,
                    position="Chánh Văn phòng HĐND tỉnh", seat="S1"),
    ]
    for n, user in enumerate(delegates, start=1):
        participants.append(Participant(
            meeting_id=meeting.id, user_id=user.id, full_name=user.full_name,
            role=MeetingRole.DELEGATE, position="Đại biểu HĐND tỉnh", seat=f"A{n}",
            weight=Decimal(1)))
    db.session.add_all(participants)
    for position, (title, presenter, minutes, children) in enumerate(AGENDA):
        item = AgendaItem(meeting_id=meeting.id, position=position, title=title,
                          presenter=presenter, planned_minutes=minutes)
        db.session.add(item)
        db.session.flush()
        for child_position, (child_title, child_presenter, child_minutes) in enumerate(children):
            db.session.add(AgendaItem(meeting_id=meeting.id, parent_id=item.id,
                                      position=child_position, title=child_title,
                                      presenter=child_presenter, planned_minutes=child_minutes))
    meeting.status = MeetingStatus.PUBLISHED
    meeting.published_at = datetime.now(timezone.utc)
    db.session.flush()
    _seed_documents(meeting)
    audit.record("demo.seeded", "meeting", meeting.id, actor=system, meeting_id=meeting.id,
                 payload={"participants": len(participants), "agenda_items": len(AGENDA)})
    db.session.commit()
    # A past session, already minuted, signed by the chair and the secretary, and sealed,
    # so the archive, its search and `hemicycle minutes verify` have something to show.
    from flask import current_app

    from server.services.archive import demo_record
    from server.services.longterm import demo_tsa
    from server.services.minutes import ca

    # Signed PAdES B-LTA with the demo PKI: its CA and an in-process TSA of its own.
    if ca.ca_certificate() is None:
        ca.init_ca("Hemicycle CA - " + demo_record.BODY, demo_record.BODY)
    if ca.office_seal() is None:  # signs the reports of written consultations
        ca.issue_office_seal(demo_record.BODY)
    demo_tsa.ensure_demo_tsa(Path(current_app.config["DATA_DIR"]))
    demo_record.seed_sealed_meeting(chair=users["chutoa"], secretary=users["thuky"],
                                     day=start - timedelta(days=30))
    _seed_consultations(users["thuky"], [users["chutoa"], *delegates])
    return meeting


def _live_links(base_url: str, meeting: Meeting) -> list[str]:
    """Fresh links to try the live meeting at once: a tablet and the projector."""
    from server.services.devices import devices

    system = Actor.system()
    delegate = db.session.scalar(select(Participant).where(
        Participant.meeting_id == meeting.id, Participant.role == MeetingRole.DELEGATE)
        .order_by(Participant.id))
    _code, secret, pin = devices.create_pairing_code(system, meeting.id, delegate.id,
                                                     ttl=timedelta(hours=12))
    _projector, display_token = devices.create_projector(system, meeting.id, "Demo projector")
    db.session.commit()
    return [
        f"  Control room:   {base_url}/meetings/{meeting.id}/control  (as thuky or chutoa)",
        f"  Chair's page:   {base_url}/meetings/{meeting.id}/chair",
        f"  Projector:      {base_url}/display/{display_token}",
        f"  A tablet:       {base_url}/tablet/#pair={secret}",
        f"                  (or PIN {pin} at {base_url}/tablet/; {delegate.full_name}, 12 hours)",
    ]


def describe(base_url: str, meeting_id: int | None = None) -> list[str]:
    """What a newcomer needs: where to go and how to log in."""
    meeting = (db.session.get(Meeting, meeting_id) if meeting_id else
               db.session.scalar(select(Meeting).where(Meeting.body == BODY,
                                                       Meeting.status != MeetingStatus.SEALED)
                                 .order_by(Meeting.id)))
    delegate = db.session.scalar(select(User).where(User.role == Role.DELEGATE).order_by(User.id))
    lines = [
        "",
        "Hemicycle demo",
        f"  Sign in:        {base_url}/login",
        f"  Meetings:       {base_url}/meetings/",
    ]
    if meeting is not None:
        lines.append(f"  Demo meeting:   {base_url}/meetings/{meeting.id}  ({meeting.title})")
        lines += _live_links(base_url, meeting)
    lines += [
        f"  API document:   {base_url}/api/openapi.json",
        "",
        f"Logins (password for all: {DEMO_PASSWORD})",
        "  admin    administrator",
        "  thuky    secretary (Lê Thị Thu Hà)",
        "  chutoa   chair (Trần Đức Lương)",
    ]
    if delegate is not None:
        lines.append(f"  {delegate.username:<8} delegate ({delegate.full_name}); 29 more delegates")
    sealed = db.session.scalar(select(Meeting).where(Meeting.status == MeetingStatus.SEALED)
                               .order_by(Meeting.id))
    if sealed is not None:
        lines += [
            "",
            f"Archive: a past session, signed and sealed: {sealed.title}",
            f"  Archive search: {base_url}/archive",
            f"  Signed minutes: {base_url}/meetings/{sealed.id}/minutes",
            f"  Export and verify: hemicycle archive export {sealed.id} --out minutes.zip"
            " && hemicycle archive verify minutes.zip",
        ]
    from server.models import Consultation

    closed = db.session.scalar(select(Consultation).where(Consultation.closed_at.is_not(None))
                               .order_by(Consultation.id))
    if closed is not None:
        lines += [
            "",
            f"Written consultations: {base_url}/consultations (one open, one closed)",
            f"  Sealed report: {base_url}/consultations/{closed.id}/report.pdf",
            f"  Export and verify: hemicycle consultations export {closed.id} --out c.zip"
            " && hemicycle archive verify c.zip",
        ]
    return lines
