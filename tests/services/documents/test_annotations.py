"""Annotations: idempotent saves, ownership, sharing, erasing for good, sealed meetings."""
from __future__ import annotations

import hashlib
import uuid

import pymupdf
import pytest
from sqlalchemy import select

from server.errors import Conflict, Forbidden, InvalidInput, NotFound
from server.extensions import db
from server.pdf.validate import page_content_hash
from server.models import (
    Annotation, AnnotationKind, Blob, Device, DeviceKind, Document, DocumentAccess,
    DocumentPage, DocumentReader, DocumentVersion, MeetingEvent, MeetingStatus, Role,
)
from server.services.documents import annotations, storage
from server.services.actors import Actor
from server.services.documents.annotations import AnnotationFields
from server.services.tokens import new_token, token_digest
from tests import factories


def sample_pdf(pages: int = 3, *, rotate: int = 0) -> bytes:
    doc = pymupdf.open()
    for number in range(1, pages + 1):
        page = doc.new_page(width=595, height=842)
        page.insert_text((72, 100), f"Trang {number}: Nghi quyet ve ke hoach nam 2027", fontsize=16)
        page.draw_rect(pymupdf.Rect(60, 60, 535, 782), color=(0.2, 0.2, 0.6), width=2)
        if rotate:
            page.set_rotation(rotate)
    return doc.tobytes()


def make_document(meeting, data: bytes | None = None, *, title: str = "Dự thảo nghị quyết",
                  confidential: bool = False, access: DocumentAccess = DocumentAccess.ALL,
                  readers=(), agenda_item=None) -> Document:
    """A document with one version, stored as the upload path would store it (no sandbox)."""
    data = data or sample_pdf()
    sha = hashlib.sha256(data).hexdigest()
    path = storage.blob_path(sha)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    if db.session.get(Blob, sha) is None:
        db.session.add(Blob(sha256=sha, size=len(data), media_type="application/pdf"))
    document = Document(meeting_id=meeting.id, title=title, confidential=confidential,
                        access=access, agenda_item_id=agenda_item.id if agenda_item else None)
    document.readers = [DocumentReader(participant_id=p.id) for p in readers]
    with pymupdf.open(stream=data, filetype="pdf") as pdf:
        pages = [DocumentPage(number=i + 1, width_pt=p.rect.width, height_pt=p.rect.height,
                              content_sha256=page_content_hash(pdf, p, p.get_text("words")),
                              text=p.get_text()) for i, p in enumerate(pdf)]
    version = DocumentVersion(number=1, blob_sha256=sha, filename="du-thao.pdf",
                              page_count=len(pages), pages=pages)
    document.versions = [version]
    db.session.add(document)
    db.session.commit()
    return document


def make_tablet(participant) -> tuple[Device, str]:
    token = new_token()
    device = Device(meeting_id=participant.meeting_id, participant_id=participant.id,
                    kind=DeviceKind.TABLET, token_sha256=token_digest(token), label="tablet")
    db.session.add(device)
    db.session.commit()
    return device, token


@pytest.fixture
def world(app):
    meeting = factories.make_meeting(status=MeetingStatus.PUBLISHED)
    alice = factories.make_participant(meeting, full_name="Nguyễn Thị Hường")
    bob = factories.make_participant(meeting, full_name="Lê Văn Bình")
    document = make_document(meeting)
    alice_device, _ = make_tablet(alice)
    bob_device, _ = make_tablet(bob)

    class World:
        pass

    w = World()
    w.meeting, w.alice, w.bob, w.document = meeting, alice, bob, document
    w.version = document.current_version
    w.as_alice = Actor.of_device(alice_device)
    w.as_bob = Actor.of_device(bob_device)
    return w


def ink(version, page=1, *, shared=False, points=((0.1, 0.1), (0.5, 0.2))) -> AnnotationFields:
    return AnnotationFields(version_id=version.id, page_number=page, kind=AnnotationKind.INK,
                            shared=shared, data={"points": [list(p) for p in points],
                                                 "color": "#ff0000", "width": 0.004, "text": ""})


def events(meeting, type_=None):
    query = select(MeetingEvent).where(MeetingEvent.meeting_id == meeting.id)
    if type_:
        query = query.where(MeetingEvent.type == type_)
    return list(db.session.scalars(query.order_by(MeetingEvent.revision)))


def test_saving_twice_keeps_one_annotation_and_announces_once(world):
    uid = str(uuid.uuid4())
    annotations.save_annotation(world.as_alice, uid, ink(world.version))
    db.session.commit()
    annotations.save_annotation(world.as_alice, uid, ink(world.version))
    db.session.commit()
    rows = db.session.scalars(select(Annotation)).all()
    assert [r.id for r in rows] == [uid]
    assert rows[0].participant_id == world.alice.id
    saved = events(world.meeting, "annotation.saved")
    assert len(saved) == 1
    assert saved[0].audience == f"participant:{world.alice.id}"
    assert saved[0].payload["data"]["points"] == [[0.1, 0.1], [0.5, 0.2]]


def test_private_annotations_stay_private_and_shared_ones_reach_the_room(world):
    private, shared = str(uuid.uuid4()), str(uuid.uuid4())
    annotations.save_annotation(world.as_alice, private, ink(world.version))
    annotations.save_annotation(world.as_alice, shared, ink(world.version, 2, shared=True))
    db.session.commit()
    seen_by_bob = annotations.list_annotations(world.as_bob, world.document.id, 1)
    assert [a.id for a in seen_by_bob] == [shared]
    seen_by_alice = annotations.list_annotations(world.as_alice, world.document.id, 1)
    assert {a.id for a in seen_by_alice} == {private, shared}
    audiences = {e.payload["id"]: e.audience for e in events(world.meeting, "annotation.saved")}
    assert audiences == {private: f"participant:{world.alice.id}", shared: "all"}


def test_unsharing_tells_the_room_to_drop_it(world):
    uid = str(uuid.uuid4())
    annotations.save_annotation(world.as_alice, uid, ink(world.version, shared=True))
    db.session.commit()
    annotations.save_annotation(world.as_alice, uid, ink(world.version, shared=False))
    db.session.commit()
    removed = events(world.meeting, "annotation.removed")
    assert [(e.audience, e.payload["id"]) for e in removed] == [("all", uid)]
    assert annotations.list_annotations(world.as_bob, world.document.id, 1) == []


def test_nobody_else_can_change_or_erase_my_annotation(world):
    uid = str(uuid.uuid4())
    annotations.save_annotation(world.as_alice, uid, ink(world.version, shared=True))
    db.session.commit()
    with pytest.raises(NotFound):
        annotations.save_annotation(world.as_bob, uid, ink(world.version, points=((0.9, 0.9),)))
    with pytest.raises(NotFound):
        annotations.delete_annotation(world.as_bob, uid)
    db.session.rollback()
    assert db.session.get(Annotation, uid).data["points"][0] == [0.1, 0.1]


def test_erasing_is_final_even_when_an_old_save_is_replayed(world):
    uid = str(uuid.uuid4())
    annotations.save_annotation(world.as_alice, uid, ink(world.version))
    db.session.commit()
    annotations.delete_annotation(world.as_alice, uid)
    db.session.commit()
    again = annotations.save_annotation(world.as_alice, uid, ink(world.version))
    db.session.commit()
    assert again.deleted_at is not None
    assert annotations.list_annotations(world.as_alice, world.document.id, 1) == []
    assert annotations.delete_annotation(world.as_alice, uid).deleted_at is not None


def test_page_outside_the_document_is_refused(world):
    with pytest.raises(InvalidInput):
        annotations.save_annotation(world.as_alice, str(uuid.uuid4()), ink(world.version, page=9))


def test_named_document_of_someone_else_is_invisible(world):
    named = make_document(world.meeting, access=DocumentAccess.NAMED, readers=[world.bob])
    with pytest.raises(NotFound):
        annotations.save_annotation(world.as_alice, str(uuid.uuid4()), ink(named.current_version))
    with pytest.raises(NotFound):
        annotations.list_annotations(world.as_alice, named.id, 1)


def test_staff_without_a_seat_and_projectors_cannot_annotate(world):
    secretary = factories.make_user(Role.SECRETARY)
    with pytest.raises(Forbidden):
        annotations.save_annotation(Actor.of_user(secretary), str(uuid.uuid4()), ink(world.version))
    projector = Device(meeting_id=world.meeting.id, kind=DeviceKind.PROJECTOR,
                       token_sha256=token_digest(new_token()))
    db.session.add(projector)
    db.session.commit()
    with pytest.raises((Forbidden, NotFound)):
        annotations.save_annotation(Actor.of_device(projector), str(uuid.uuid4()), ink(world.version))


def test_a_sealed_meeting_keeps_its_annotations_as_they_are(world):
    uid = str(uuid.uuid4())
    annotations.save_annotation(world.as_alice, uid, ink(world.version))
    world.meeting.status = MeetingStatus.SEALED
    db.session.commit()
    with pytest.raises(Conflict):
        annotations.save_annotation(world.as_alice, str(uuid.uuid4()), ink(world.version))
    with pytest.raises(Conflict):
        annotations.delete_annotation(world.as_alice, uid)
    assert [a.id for a in annotations.list_annotations(world.as_alice, world.document.id, 1)] == [uid]


def test_staff_without_a_seat_see_only_shared_marks(world):
    annotations.save_annotation(world.as_alice, str(uuid.uuid4()), ink(world.version))
    shared = str(uuid.uuid4())
    annotations.save_annotation(world.as_alice, shared, ink(world.version, shared=True))
    db.session.commit()
    secretary = Actor.of_user(factories.make_user(Role.SECRETARY))
    assert [a.id for a in annotations.list_annotations(secretary, world.document.id, 1)] == [shared]
