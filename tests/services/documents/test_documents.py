"""Document service: storage, versions, annotation carry-over, access and refusals."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from server.errors import Conflict, Forbidden, HemicycleError, InvalidInput, NotFound
from server.extensions import db
from server.models import (
    Annotation, AnnotationKind, AuditEntry, Blob, Document, DocumentAccess, DocumentPage,
    DocumentVersion, MeetingEvent,
)
from server.pdf import render
from server.schemas.documents import DocumentUpdate, DocumentUpload
from server.services.documents import access as document_access, documents, storage
from server.services.documents import pages as page_images
from tests.conftest import service_unavailable
from tests.pdf import samples
from tests.pdf.world import make_world, upload_file


@pytest.fixture
def world(app):
    app.config["DOCUMENT_RENDER_INLINE"] = True
    return make_world()


def upload(world, tmp_path, data, filename="Báo cáo.pdf", **fields):
    document, version, notices = documents.upload_document(
        world.staff, world.meeting.id, upload_file(tmp_path, data, filename), DocumentUpload(**fields))
    db.session.commit()
    page_images.schedule_render(version.id)
    return document, version, notices


def events_of(world, type_):
    return db.session.scalars(select(MeetingEvent).where(
        MeetingEvent.meeting_id == world.meeting.id, MeetingEvent.type == type_)).all()


def blob_files(app) -> list[Path]:
    return [p for p in storage.blobs_root(Path(app.config["DATA_DIR"])).rglob("*") if p.is_file()]


def test_upload_stores_the_file_once_by_content_and_describes_every_page(app, world, tmp_path):
    data = samples.vietnamese(3)
    first, version, _ = upload(world, tmp_path, data, title="Báo cáo KT-XH")
    second, again, _ = upload(world, tmp_path, data, filename="copy.pdf")
    assert first.id != second.id and version.blob_sha256 == again.blob_sha256
    assert db.session.scalar(select(func.count()).select_from(Blob)) == 1
    assert len(blob_files(app)) == 1
    assert storage.blob_path(version.blob_sha256).read_bytes() == data
    pages = db.session.scalars(select(DocumentPage).where(DocumentPage.version_id == version.id)
                               .order_by(DocumentPage.number)).all()
    assert [p.number for p in pages] == [1, 2, 3]
    assert "Trang 3. Nghị quyết" in pages[2].text
    assert (pages[0].width_pt, pages[0].height_pt) == (595, 842)
    assert first.title == "Báo cáo KT-XH" and second.title == "copy"
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "document.upload")).first()
    assert entry.payload["sha256"] == version.blob_sha256


def test_background_render_fills_the_cache_and_reports_progress(app, world, tmp_path):
    _document, version, _ = upload(world, tmp_path, samples.many_pages(12))
    data_dir = Path(app.config["DATA_DIR"])
    for number in range(1, 13):
        for size, ext in render.ALL_VARIANTS:
            assert render.cache_path(data_dir, version.blob_sha256, number, size, ext).exists()
    db.session.refresh(version)
    assert version.pages_rendered == 12
    rendered = events_of(world, "document.rendered")
    assert rendered and rendered[-1].payload == {"document_id": version.document_id, "version_id": version.id,
                                                 "pages_rendered": 12, "page_count": 12}


@pytest.mark.parametrize("data, code", [
    (b"not a pdf at all", "not_a_pdf"),
    (samples.encrypted(), "encrypted_pdf"),
    (samples.zero_pages(), "empty_pdf"),
    (samples.truncated(0.5), "damaged_pdf"),
])
def test_a_refused_upload_leaves_no_row_and_no_file(app, world, tmp_path, data, code):
    with pytest.raises(HemicycleError) as caught:
        upload(world, tmp_path, data)
    assert caught.value.code == code and 400 <= caught.value.status < 500
    db.session.rollback()
    for model in (Blob, Document, DocumentVersion):
        assert db.session.scalar(select(func.count()).select_from(model)) == 0
    assert blob_files(app) == []
    refusal = db.session.scalars(select(AuditEntry).where(AuditEntry.outcome == "refused")).one()
    assert refusal.payload == {"reason": code}


def test_a_rolled_back_upload_removes_the_blob_file_it_created(app, world, tmp_path):
    documents.upload_document(world.staff, world.meeting.id,
                              upload_file(tmp_path, samples.vietnamese(1)), DocumentUpload())
    assert len(blob_files(app)) == 1
    db.session.rollback()
    assert blob_files(app) == []


def test_office_files_are_refused_clearly_without_libreoffice(app, world, tmp_path):
    app.config["SOFFICE_PATH"] = ""
    with pytest.raises(HemicycleError) as caught:
        upload(world, tmp_path, b"PK\x03\x04" + bytes(100), filename="Tờ trình.docx")
    assert (caught.value.status, caught.value.code) == (415, "conversion_unavailable")


def test_new_version_keeps_old_ones_and_carries_annotations_on_unchanged_pages(app, world, tmp_path):
    document, v1, _ = upload(world, tmp_path, samples.vietnamese(4))
    for page in (1, 3, 4):
        db.session.add(Annotation(id=f"a-{page}", version_id=v1.id, page_number=page,
                                  participant_id=world.reader.id, kind=AnnotationKind.INK,
                                  data={"points": [[0.1, 0.2]], "color": "#ff0000"}))
    db.session.commit()
    document, v2, notices = documents.add_version(
        world.staff, document.id, upload_file(tmp_path, samples.vietnamese(4, changed_page=3)))
    db.session.commit()
    assert (v1.number, v2.number) == (1, 2)
    assert [v.number for v in document.versions] == [1, 2]
    assert document.current_version.id == v2.id
    carried = db.session.scalars(select(Annotation).where(Annotation.version_id == v2.id)).all()
    assert sorted((a.page_number, a.carried_from_id) for a in carried) == [(1, "a-1"), (4, "a-4")]
    assert notices["annotations_carried"] == 2
    event = events_of(world, "document.version")[-1]
    assert event.payload["version_id"] == v2.id and event.payload["number"] == 2


def test_annotations_follow_a_page_that_moved(app, world, tmp_path):
    document, v1, _ = upload(world, tmp_path, samples.vietnamese(2))
    db.session.add(Annotation(id="moved", version_id=v1.id, page_number=2,
                              participant_id=world.reader.id, kind=AnnotationKind.NOTE, data={}))
    db.session.commit()
    import pymupdf

    doc = pymupdf.open(stream=samples.vietnamese(2), filetype="pdf")
    doc.insert_page(0, text="Trang bìa mới")
    _document, v2, _ = documents.add_version(world.staff, document.id,
                                             upload_file(tmp_path, doc.tobytes()))
    db.session.commit()
    moved = db.session.scalars(select(Annotation).where(Annotation.version_id == v2.id)).one()
    assert moved.page_number == 3


def test_named_documents_are_invisible_to_delegates_not_named(app, world, tmp_path):
    document, _v, _ = upload(world, tmp_path, samples.vietnamese(1), access=DocumentAccess.NAMED,
                             readers=[world.reader.id])
    reader, other = world.device(world.reader), world.device(world.other)
    assert [d.id for d, _r in document_access.visible_documents(reader, world.meeting)] == [document.id]
    assert document_access.visible_documents(other, world.meeting) == []
    with pytest.raises(NotFound):
        page_images.page_text(other, document.id, 1, 1)
    assert "Trang 1" in page_images.page_text(reader, document.id, 1, 1)
    audiences = {e.audience for e in events_of(world, "document.added")}
    assert audiences == {"staff", f"participant:{world.reader.id}"}


def test_staff_only_documents_reach_chair_and_secretary_only(app, world, tmp_path):
    document, _v, _ = upload(world, tmp_path, samples.vietnamese(1), access=DocumentAccess.STAFF)
    assert document_access.visible_documents(world.device(world.reader), world.meeting) == []
    chair_view = document_access.visible_documents(world.device(world.chair), world.meeting)
    assert [(d.id, r.pdf) for d, r in chair_view] == [(document.id, True)]


def test_confidential_documents_give_delegates_watermarked_images_only(app, world, tmp_path):
    document, _v, _ = upload(world, tmp_path, samples.vietnamese(1), confidential=True)
    reader = world.device(world.reader)
    with pytest.raises(Forbidden):
        page_images.pdf_file(reader, document.id, 1)
    with pytest.raises(Forbidden):
        page_images.page_text(reader, document.id, 1, 1)
    plan = page_images.plan_page(reader, document.id, 1, 1, "large", "png")
    assert plan.right.watermark and plan.etag is None
    assert "Nguyễn Thị Hường" in plan.right.reader
    staff_plan = page_images.plan_page(world.staff, document.id, 1, 1, "large", "png")
    assert page_images.page_bytes(plan) != page_images.page_bytes(staff_plan)


def test_update_changes_access_and_readers_and_validates_them(app, world, tmp_path):
    document, _v, _ = upload(world, tmp_path, samples.vietnamese(1))
    documents.update_document(world.staff, document.id, DocumentUpdate(
        access=DocumentAccess.NAMED, readers=[world.other.id], title="Tờ trình số 5"))
    db.session.commit()
    assert [r.participant_id for r in document.readers] == [world.other.id]
    with pytest.raises(InvalidInput):
        documents.update_document(world.staff, document.id, DocumentUpdate(readers=[999_999]))
    db.session.rollback()
    with pytest.raises(Forbidden):
        documents.update_document(world.device(world.chair), document.id, DocumentUpdate(title="x"))


def test_present_and_push_publish_events_for_the_room(app, world, tmp_path):
    document, version, _ = upload(world, tmp_path, samples.vietnamese(3))
    documents.present(world.device(world.chair), world.meeting.id, version.id, 2)
    documents.push(world.staff, world.meeting.id, document.id)
    db.session.commit()
    assert (world.meeting.presented_version_id, world.meeting.presented_page) == (version.id, 2)
    assert events_of(world, "document.presented")[-1].payload["page"] == 2
    assert events_of(world, "document.pushed")[-1].payload["document_id"] == document.id
    with pytest.raises(Forbidden):
        documents.present(world.device(world.reader), world.meeting.id, version.id, 1)
    with pytest.raises(InvalidInput):
        documents.present(world.staff, world.meeting.id, version.id, 4)
    secret, secret_version, _ = upload(world, tmp_path, samples.vietnamese(1), access=DocumentAccess.STAFF)
    with pytest.raises(Conflict):
        documents.present(world.staff, world.meeting.id, secret_version.id, 1)


def test_delete_removes_the_document_but_keeps_a_blob_another_uses(app, world, tmp_path):
    data = samples.vietnamese(1)
    first, version, _ = upload(world, tmp_path, data)
    upload(world, tmp_path, data)
    documents.delete_document(world.staff, first.id)
    db.session.commit()
    assert db.session.get(Document, first.id) is None
    assert storage.blob_path(version.blob_sha256).exists()
    assert events_of(world, "document.removed")[-1].payload == {"document_id": first.id}


@pytest.mark.parametrize("name, expected", [
    ("../../etc/passwd.pdf", "passwd.pdf"),
    ("C:\\Users\\thuky\\Tờ trình.pdf", "Tờ trình.pdf"),
    ("a\x00b\x1fc\u0085.pdf", "abc.pdf"),
    ("...", "document.pdf"),
    ('Tờ trình "số 5" <dự thảo>?.pdf', "Tờ trình _số 5_ _dự thảo__.pdf"),
    ("", "document.pdf"),
    ("Ho\u0323p.PDF", "Họp.PDF"),
    ("x" * 1000 + ".pdf", "x" * 196 + ".pdf"),
    ("ệ" * 300 + ".pdf", "ệ" * 65 + ".pdf"),  # 3 bytes each: cut on a character boundary
])
def test_safe_filename(name, expected):
    assert storage.safe_filename(name) == expected


def test_atomic_write_leaves_no_temporary_file(tmp_path):
    target = tmp_path / "a" / "b.bin"
    storage.atomic_write(target, b"one")
    storage.atomic_write(target, b"two")
    assert target.read_bytes() == b"two" and [p.name for p in target.parent.iterdir()] == ["b.bin"]


def test_rendering_runs_in_the_background_after_the_commit(app, world, tmp_path):
    import time

    app.config["DOCUMENT_RENDER_INLINE"] = False
    _document, version, _ = upload(world, tmp_path, samples.many_pages(8))
    deadline = time.monotonic() + 120  # a bound for a shared machine, not a performance target
    while time.monotonic() < deadline:
        db.session.expire_all()
        if db.session.get(DocumentVersion, version.id).pages_rendered == 8:
            break
        time.sleep(0.2)
    assert db.session.get(DocumentVersion, version.id).pages_rendered == 8
    assert events_of(world, "document.rendered")[-1].payload["pages_rendered"] == 8


def test_pages_not_rendered_yet_are_rendered_on_demand(app, world, tmp_path):
    app.config["DOCUMENT_FIRST_PAGES"] = 1
    app.config["DOCUMENT_RENDER_INLINE"] = False
    document, version, _ = documents.upload_document(
        world.staff, world.meeting.id, upload_file(tmp_path, samples.many_pages(5)), DocumentUpload())
    db.session.commit()  # no render scheduled: page 4 is not in the cache
    target = render.cache_path(Path(app.config["DATA_DIR"]), version.blob_sha256, 4, "thumb", "png")
    assert not target.exists()
    plan = page_images.plan_page(world.device(world.reader), document.id, 1, 4, "thumb", "png")
    assert page_images.page_bytes(plan)[:8] == b"\x89PNG\r\n\x1a\n" and target.exists()


def odt(paragraph: str) -> bytes:
    """A minimal but complete OpenDocument text: mimetype first and stored, a manifest."""
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.text")
        archive.writestr("META-INF/manifest.xml", (
            '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
            'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
            'manifest:version="1.2"><manifest:file-entry manifest:full-path="/" '
            'manifest:media-type="application/vnd.oasis.opendocument.text"/>'
            '<manifest:file-entry manifest:full-path="content.xml" '
            'manifest:media-type="text/xml"/></manifest:manifest>'))
        archive.writestr("content.xml", (
            '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
            'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
            'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
            f"<office:body><office:text><text:p>{paragraph}</text:p></office:text>"
            "</office:body></office:document-content>"))
    return buffer.getvalue()


def docx(paragraph: str) -> bytes:
    """A minimal but complete Word document: content types, package relationships, body."""
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8"?><Types '
            'xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/word/document.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'))
        archive.writestr("_rels/.rels", (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships '
            'xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Target="word/document.xml" Type="http://schemas.'
            'openxmlformats.org/officeDocument/2006/relationships/officeDocument"/>'
            '</Relationships>'))
        archive.writestr("word/document.xml", (
            '<?xml version="1.0" encoding="UTF-8"?><w:document '
            'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
            f"<w:body><w:p><w:r><w:t>{paragraph}</w:t></w:r></w:p></w:body></w:document>"))
    return buffer.getvalue()


@pytest.mark.parametrize("make, suffix", [(odt, "odt"), (docx, "docx")])
def test_office_files_are_converted_when_libreoffice_is_present(app, world, tmp_path, make,
                                                                 suffix):
    if not shutil.which("soffice"):
        service_unavailable("LibreOffice (soffice)",
                            "apt install libreoffice-writer-nogui (scripts/setup --dev does)")
    document, version, _ = upload(world, tmp_path, make("Tờ trình về ngân sách"),
                                  filename=f"Tờ trình.{suffix}")
    assert version.filename == "Tờ trình.pdf" and version.source_blob_sha256
    assert "Tờ trình về ngân sách" in version.pages[0].text


def test_jpeg_and_png_variants_are_written_with_the_renders(app, world, tmp_path):
    _document, version, _ = upload(world, tmp_path, samples.with_image())
    png = render.cache_path(Path(app.config["DATA_DIR"]), version.blob_sha256, 1, "large", "png")
    jpeg = png.with_suffix(".jpg")
    assert jpeg.read_bytes()[:3] == b"\xff\xd8\xff"
    import pymupdf

    assert pymupdf.Pixmap(str(jpeg)).width == pymupdf.Pixmap(str(png)).width == 1600


def test_many_tablets_asking_for_the_same_missing_page_cause_one_render(app, world, tmp_path, monkeypatch):
    import threading

    from server.pdf import sandbox

    app.config["DOCUMENT_FIRST_PAGES"] = 0
    app.config["DOCUMENT_RENDER_INLINE"] = False
    document, version, _ = documents.upload_document(
        world.staff, world.meeting.id, upload_file(tmp_path, samples.many_pages(3)), DocumentUpload())
    db.session.commit()
    plan = page_images.plan_page(world.device(world.reader), document.id, 1, 2, "large", "png")
    renders, real_run = [], sandbox.run

    def counting_run(op, request, **kw):  # a spy: the real sandbox still does the work
        renders.append(op)
        return real_run(op, request, **kw)

    monkeypatch.setattr(page_images.sandbox, "run", counting_run)
    images = []

    def tablet():
        with app.app_context():
            images.append(page_images.page_bytes(plan))

    threads = [threading.Thread(target=tablet) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert len(images) == 6 and len(set(images)) == 1
    assert renders == ["render"]


def test_a_savepoint_inside_the_upload_does_not_settle_its_new_files(app, world, tmp_path):
    documents.upload_document(world.staff, world.meeting.id,
                              upload_file(tmp_path, samples.vietnamese(1)), DocumentUpload())
    with db.session.begin_nested():  # e.g. another service's savepoint in the same request
        pass
    db.session.rollback()
    assert blob_files(app) == []


def test_stale_temporaries_of_interrupted_writes_are_removed_but_fresh_ones_kept(app):
    import os
    import time

    from server.services.documents import storage

    root = storage.blobs_root()
    (root / "ab").mkdir(parents=True, exist_ok=True)
    stale, fresh = root / "ab" / ".tmp-crashed", root / "ab" / ".tmp-in-progress"
    stale.write_bytes(b"half a file")
    fresh.write_bytes(b"another worker's write")
    two_hours_ago = time.time() - 7200
    os.utime(stale, (two_hours_ago, two_hours_ago))
    assert storage.remove_stale_temporaries() == 1
    assert not stale.exists() and fresh.exists()
