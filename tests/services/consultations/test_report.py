"""The report of a consultation's result: issued at closing, sealed by the office seal,
checked by pdfsig and by our own verification; its archive package verifies offline and
a changed answer or a flipped byte fails it; archive search finds it without diacritics."""
from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from datetime import timedelta
from decimal import Decimal

import pymupdf
import pytest
from click.testing import CliRunner

from server.cli.commands import cli
from server.extensions import db
from sqlalchemy import select

from server.models import AuditEntry, Consultation, Role, utcnow
from server.services.actors import Actor
from server.services.archive import consultation_package, search
from server.services.archive.verify import verify_package
from server.services.consultations import answering, asking, closing, reporting
from server.services.minutes import ca, trust
from tests import factories

TITLE = "Xin ý kiến về Nghị quyết điều chỉnh kế hoạch đầu tư công năm 2027"
COMMENT = "Đề nghị bổ sung nguồn vốn đối ứng của huyện Đức Trọng"


@pytest.fixture
def run(app, monkeypatch):
    """The real command line, on the test app's database and data directory."""
    monkeypatch.setenv("HEMICYCLE_DATA_DIR", str(app.config["DATA_DIR"]))
    monkeypatch.setenv("HEMICYCLE_DATABASE_URL", app.config["DATABASE_URL"])
    monkeypatch.setenv("HEMICYCLE_SECRET_KEY", "test-secret")
    monkeypatch.setenv("HEMICYCLE_ASYNC_MODE", "threading")
    return lambda *args: CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def _closed(members=5, *, seal=True):
    if ca.ca_certificate() is None:
        ca.init_ca("Hemicycle CA - UBND tỉnh Lâm Đồng", "Ủy ban nhân dân tỉnh Lâm Đồng")
    if seal and ca.office_seal() is None:
        ca.issue_office_seal("Văn phòng Ủy ban nhân dân tỉnh Lâm Đồng")
    people = [factories.make_user(full_name=f"Nguyễn Văn Ủy viên {n}") for n in range(members)]
    office = Actor.of_user(factories.make_user(Role.SECRETARY))
    consultation = asking.create(office, asking.ConsultationFields(
        title=TITLE, question="Đồng ý thông qua dự thảo Nghị quyết?",
        closes_at=utcnow() + timedelta(hours=24),
        members={m.id: Decimal(1) for m in people}))
    db.session.commit()
    for person in people[:3]:
        answering.answer(Actor.of_user(person), consultation.id, "yes")
    answering.answer(Actor.of_user(people[3]), consultation.id, "no", COMMENT)
    db.session.commit()
    closing.close_due(utcnow() + timedelta(hours=25))
    db.session.commit()
    assert consultation.report_sha256 is None  # issued after the closing's commit
    assert reporting.issue_pending() == 1
    assert reporting.issue_pending() == 0
    consultation = db.session.get(Consultation, consultation.id)
    return office, consultation


def _text(pdf: bytes) -> str:
    with pymupdf.open("pdf", pdf) as doc:
        return "".join(page.get_text() for page in doc)


def test_the_report_is_issued_at_closing_and_sealed(app, tmp_path):
    _office, consultation = _closed()
    assert consultation.report_signed_by.startswith("Văn phòng Ủy ban nhân dân tỉnh Lâm Đồng")
    assert consultation.report_problem is None
    pdf = reporting.report_pdf(consultation)
    text = _text(pdf)
    for expected in ("BÁO CÁO KẾT QUẢ LẤY Ý KIẾN BẰNG VĂN BẢN", TITLE, COMMENT,
                     "Kết quả: THÔNG QUA", "Nguyễn Văn Ủy viên 4", "(không trả lời)",
                     "ỦY BAN NHÂN DÂN TỈNH LÂM ĐỒNG"):
        assert expected in " ".join(text.split()), expected
    check = reporting.verify(pdf)
    assert check.ok, (check.problems, [s.problems for s in check.signatures])
    assert [s.field for s in check.signatures] == ["sig_office"]
    assert check.audit_head is not None
    assert db.session.query(AuditEntry).filter_by(
        action="consultation.report_issued", object_id=str(consultation.id)).count() == 1
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    run = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True)
    assert "Signature is Valid" in run.stdout, run.stdout + run.stderr
    assert "Total document signed" in run.stdout
    flipped = bytearray(pdf)
    flipped[len(pdf) // 3] ^= 0x01
    assert not reporting.verify(bytes(flipped)).ok


def test_another_field_added_after_the_seal_fails(app):
    """The report accepts exactly one field, the office's: one more fails verification."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields
    import io

    _office, consultation = _closed()
    pdf = reporting.report_pdf(consultation)
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    fields.append_signature_field(writer, fields.SigFieldSpec("sig_extra", on_page=0,
                                                              box=(50, 50, 200, 100)))
    out = io.BytesIO()
    writer.write(out)
    check = reporting.verify(out.getvalue())
    assert not check.ok
    assert any("sig_extra" in str(p) for p in check.problems)


def test_without_a_seal_the_report_is_kept_unsigned_and_sealed_later(app, run):
    _office, consultation = _closed(seal=False)
    assert consultation.report_signed_by is None
    assert "hemicycle ca issue-seal" in consultation.report_problem
    pdf = reporting.report_pdf(consultation)
    assert reporting.verify(pdf).signatures == []
    with pytest.raises(Exception) as refused:
        consultation_package.export_package(consultation.id, "/tmp/never.zip")
    assert refused.value.code == "report_unsigned"
    ca.issue_office_seal("Văn phòng Ủy ban nhân dân tỉnh Lâm Đồng")
    db.session.commit()
    result = run("consultations", "sign-report", consultation.id)
    assert result.exit_code == 0, result.output
    consultation = db.session.execute(
        select(Consultation).where(Consultation.id == consultation.id)
        .execution_options(populate_existing=True)).scalar_one()
    assert consultation.report_signed_by and consultation.report_problem is None
    sealed = reporting.report_pdf(consultation)
    assert reporting.verify(sealed).ok
    assert sealed.startswith(pdf)  # the same report, sealed as an incremental update


def test_the_package_verifies_offline_and_a_changed_answer_fails(app, run, tmp_path):
    _office, consultation = _closed()
    out = consultation_package.export_package(consultation.id, tmp_path / "c.zip")
    roots = trust.deployment_roots()
    check = verify_package(out, roots)
    assert check.ok, check.problems
    verified = run("archive", "verify", out)
    assert verified.exit_code == 0, verified.output
    assert "OK" in verified.output
    # An insider turns the "no" into a "yes" in the package: the tally and bag disagree.
    bag = tmp_path / "bag"
    with zipfile.ZipFile(out) as archive:
        archive.extractall(bag)
    top = next(bag.iterdir())
    record = top / "data" / "record" / "consultation.json"
    stated = json.loads(record.read_text(encoding="utf-8"))
    for answer in stated["answers"]:
        answer["choice"] = "yes"
    record.write_text(json.dumps(stated, ensure_ascii=False), encoding="utf-8")
    changed = verify_package(top, roots)
    assert not changed.ok
    assert any("do not add up" in p for p in changed.problems)
    assert any("bag:" in p for p in changed.problems)
    # The report alone, one byte flipped.
    shutil.rmtree(bag)
    with zipfile.ZipFile(out) as archive:
        archive.extractall(bag)
    report = next(bag.iterdir()) / "data" / "report" / "report-signed.pdf"
    data = bytearray(report.read_bytes())
    data[len(data) // 2] ^= 0x01
    report.write_bytes(bytes(data))
    assert not verify_package(next(bag.iterdir()), roots).ok


def test_archive_search_finds_it_without_diacritics(app):
    _office, consultation = _closed()
    hits = search.search(Actor.system(), "dieu chinh ke hoach dau tu cong")
    assert [(h["kind"], h["consultation_id"]) for h in hits] == [
        ("consultation", consultation.id)]
    comments = search.search(Actor.system(), "nguon von doi ung Duc Trong")
    assert comments and comments[0]["label"] == "Nguyễn Văn Ủy viên 3"
    assert COMMENT[:20] in comments[0]["snippet"] or "đối ứng" in comments[0]["snippet"]
    assert search.search(Actor.system(), "dieu chinh", body="Hội đồng nhân dân") == []
