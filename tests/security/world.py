"""One seeded world for the security suites: every kind of object, every kind of caller.

A published meeting with an agenda, participants of each role, a document
with an annotation, open for comments with a delegate's comment, polls in each state and paired devices; a second meeting
whose tablet is the "stranger". Built once per session into a directory that
each test copies, so a test that changes things never affects the next one.
"""
from __future__ import annotations

import shutil
import uuid
from datetime import timedelta
from decimal import Decimal
from dataclasses import dataclass, field
from pathlib import Path

from server import create_app
from server.extensions import db
from server.models import (
    AnnotationKind, AttendanceStatus, Base, CommentKind, DeviceKind, DocumentAccess, MeetingRole,
    MeetingStatus, Role, utcnow,
)
from server.schemas.documents import DocumentUpload
from server.schemas.amendments import AmendmentIn, DraftTextIn
from server.schemas.drafts import CommentPeriodIn
from server.services.amendments import tabling, texts
from server.services.documents import annotations, documents, pages as page_images
from server.services.consultations import asking as consultation_asking
from server.services.drafts import comments as draft_comments, comment_periods
from server.services.voting import polls as voting
from server.services.actors import Actor
from server.services.documents.ingest import Upload
from server.services.tokens import new_token, token_digest
from tests import factories
from tests.conftest import test_config

# Each caller of the matrix. "tablet" is a delegate's paired tablet in the meeting,
# "stranger" the paired tablet of another meeting, "projector" the room display token.
ROLES = ("admin", "secretary", "chair", "delegate", "observer", "tablet", "projector",
         "stranger", "anonymous")
ACCOUNT_ROLES = ("admin", "secretary", "chair", "delegate", "observer")
TOKEN_ROLES = ("tablet", "projector", "stranger")

XSS = '<img src=x onerror=window.__xss=1>'
SECRET_TEXT = "Tuyet mat 4711"  # the text of the confidential document


@dataclass
class World:
    root: Path
    ids: dict = field(default_factory=dict)  # path parameter name -> value
    usernames: dict = field(default_factory=dict)  # role -> username
    tokens: dict = field(default_factory=dict)  # role -> bearer token
    extra: dict = field(default_factory=dict)


def _pdf(pages: int = 2, title: str = "Báo cáo") -> bytes:
    import pymupdf

    doc = pymupdf.open()
    for number in range(pages):
        page = doc.new_page(width=300, height=400)
        page.insert_text((40, 60), f"{title} {number + 1}")
    return doc.tobytes(garbage=3, deflate=True)


def _device_token(meeting_id: int, participant_id: int | None) -> tuple[int, str]:
    from server.models import Device

    token = new_token()
    device = Device(meeting_id=meeting_id, participant_id=participant_id,
                    kind=DeviceKind.TABLET if participant_id else DeviceKind.PROJECTOR,
                    token_sha256=token_digest(token), label="seeded")
    db.session.add(device)
    db.session.commit()
    return device.id, token


def seed(root: Path, *, title: str = "Kỳ họp thứ 12 HĐND tỉnh") -> World:
    """Fill the database of the app whose context is pushed; files go under ``root``."""
    world = World(root)
    users = {
        "admin": factories.make_user(Role.ADMIN),
        "secretary": factories.make_user(Role.SECRETARY),
        "chair": factories.make_user(Role.CHAIR),
        "delegate": factories.make_user(Role.DELEGATE),
        "observer": factories.make_user(Role.OBSERVER),
    }
    world.usernames = {role: user.username for role, user in users.items()}
    staff = Actor.of_user(users["secretary"])
    meeting = factories.make_meeting(title=title, status=MeetingStatus.PUBLISHED,
                                     created_by=users["secretary"])
    chair = factories.make_participant(meeting, user=users["chair"], role=MeetingRole.CHAIR,
                                       attendance=AttendanceStatus.PRESENT)
    delegate = factories.make_participant(meeting, user=users["delegate"],
                                          attendance=AttendanceStatus.PRESENT)
    factories.make_participant(meeting, user=users["observer"], role=MeetingRole.OBSERVER,
                               voting_right=False)
    holder = factories.make_participant(meeting, attendance=AttendanceStatus.PRESENT)
    spare = factories.make_participant(meeting)
    items = [factories.make_item(meeting, "Khai mạc"), factories.make_item(meeting, "Báo cáo")]

    tablet_id, world.tokens["tablet"] = _device_token(meeting.id, holder.id)
    spare_device_id, _ = _device_token(meeting.id, spare.id)
    projector_id, world.tokens["projector"] = _device_token(meeting.id, None)

    other = factories.make_meeting(title="Một cuộc họp khác", status=MeetingStatus.PUBLISHED)
    stranger = factories.make_participant(other, attendance=AttendanceStatus.PRESENT)
    _, world.tokens["stranger"] = _device_token(other.id, stranger.id)

    upload_path = root / "upload.pdf"
    upload_path.write_bytes(_pdf())
    document, version, _ = documents.upload_document(
        staff, meeting.id, Upload(path=upload_path, filename="Báo cáo.pdf"),
        DocumentUpload(agenda_item_id=items[1].id))
    db.session.commit()
    page_images.schedule_render(version.id)

    secret_path = root / "secret.pdf"
    secret_path.write_bytes(_pdf(2, SECRET_TEXT))
    secret, secret_version, _ = documents.upload_document(
        staff, meeting.id, Upload(path=secret_path, filename="Mật.pdf"),
        DocumentUpload(access=DocumentAccess.NAMED, confidential=True, readers=[holder.id]))
    db.session.commit()
    page_images.schedule_render(secret_version.id)

    annotation_id = str(uuid.uuid4())
    annotations.save_annotation(
        Actor.of_user(users["delegate"]), annotation_id,
        annotations.AnnotationFields(version_id=version.id, page_number=1,
                                     kind=AnnotationKind.INK, shared=False,
                                     data={"points": [[0.1, 0.1]]}))
    db.session.commit()

    comment_period = comment_periods.open_comment_period(
        staff, document.id, CommentPeriodIn(deadline=utcnow() + timedelta(days=30)))
    db.session.commit()
    comment_id = str(uuid.uuid4())
    draft_comments.save_comment(
        Actor.of_user(users["delegate"]), comment_id,
        draft_comments.CommentFields(comment_period.id, 1, None, CommentKind.SUBSTANTIVE,
                                     "Góp ý riêng của đại biểu"))
    db.session.commit()

    consultation = consultation_asking.create(staff, consultation_asking.ConsultationFields(
        title="Xin ý kiến giữa hai kỳ họp", question="Đồng ý?",
        closes_at=utcnow() + timedelta(days=30),
        members={users["chair"].id: Decimal(1), users["delegate"].id: Decimal(1)}))
    draft_text = texts.enter_draft(staff, meeting.id, DraftTextIn(
        agenda_item_id=items[1].id, title="Dự thảo nghị quyết", text="Điều 1.\nĐiều 2."))
    db.session.commit()
    amendment = tabling.table_amendment(Actor.of_user(users["delegate"]), draft_text.id,
                                        AmendmentIn(line_from=1, line_to=1, new_text="Điều 1 mới.",
                                                    reasons="Rõ hơn"))
    db.session.commit()

    polls = {}
    for state in ("draft", "open", "closed", "published"):
        poll = voting.create_poll(staff, meeting.id, {"motion": f"Biểu quyết ({state})",
                                                      "quorum_required": False})
        db.session.commit()
        if state != "draft":
            voting.open_poll(staff, poll.id)
            db.session.commit()
        if state in ("closed", "published"):
            voting.close_poll(staff, poll.id)
            db.session.commit()
        if state == "published":
            voting.publish_poll(staff, poll.id)
            db.session.commit()
        polls[state] = poll.id

    world.ids = {
        "meeting_id": meeting.id, "other_meeting_id": other.id, "item_id": items[1].id,
        "participant_id": spare.id, "document_id": document.id, "number": version.number,
        "version_id": version.id, "page": 1, "ext": "jpg", "annotation_id": annotation_id,
        "device_id": spare_device_id, "tablet_device_id": tablet_id,
        "projector_device_id": projector_id, "user_id": users["delegate"].id,
        "delegate_participant_id": delegate.id, "chair_participant_id": chair.id,
        "holder_participant_id": holder.id, "comment_period_id": comment_period.id,
        "comment_id": comment_id, "consultation_id": consultation.id,
        "draft_id": draft_text.id, "amendment_id": amendment.id,
        "confidential_document_id": secret.id,
        **{f"poll_{state}": poll_id for state, poll_id in polls.items()},
    }
    return world


def build(root: Path) -> World:
    """Seed a world into ``root`` (test.db and data/), closing every connection afterwards."""
    root.mkdir(parents=True, exist_ok=True)
    app = create_app(test_config(root, DOCUMENT_RENDER_INLINE=True))
    with app.app_context():
        Base.metadata.create_all(db.engine)
        world = seed(root)
        db.session.remove()
        db.engine.dispose()
    return world


def copy(template: World, target: Path) -> World:
    shutil.copytree(template.root, target)
    return World(target, dict(template.ids), dict(template.usernames), dict(template.tokens),
                 dict(template.extra))
