"""Signatures: chair then secretary, PAdES checked by poppler's pdfsig and by pyHanko."""
from __future__ import annotations

import os
import shutil
import stat
import subprocess

import pymupdf
import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID
from sqlalchemy import select

from server.errors import Conflict, Forbidden, InvalidInput
from server.extensions import db
from server.models import AuditEntry, MeetingEvent, MeetingStatus, MinutesStatus, Role
from server.services import access
from server.services.minutes import ca, minutes as minutes_service, signing, trust
from server.services.minutes.verify import verify_pdf
from server.services.actors import Actor
from server.services.archive.demo_record import DEMO_PASSPHRASE, seed_held_meeting
from tests import factories, pki
from tests.conftest import service_unavailable

SYSTEM = Actor.system()
@pytest.fixture
def pdfsig_installed():
    if shutil.which("pdfsig") is None:
        service_unavailable("pdfsig", "apt install poppler-utils (scripts/setup --dev does)")


needs_pdfsig = pytest.mark.usefixtures("pdfsig_installed")


@pytest.fixture
def final(app):
    """A closed meeting whose minutes are final, with the chair's and secretary's accounts."""
    meeting, chair, secretary = seed_held_meeting()
    minutes_service.draft_minutes(meeting.id, SYSTEM)
    minutes_service.finalise_minutes(meeting.id, SYSTEM)
    db.session.commit()
    return meeting, Actor.of_user(chair), Actor.of_user(secretary)


def _sign_both(final):
    meeting, chair, secretary = final
    signing.sign_minutes(meeting.id, chair, DEMO_PASSPHRASE)
    signing.sign_minutes(meeting.id, secretary, DEMO_PASSPHRASE)
    db.session.commit()
    minutes = minutes_service.minutes_of(meeting)
    return minutes, minutes_service.current_pdf(minutes)


def _pdfsig(tmp_path, pdf: bytes) -> str:
    path = tmp_path / "minutes.pdf"
    path.write_bytes(pdf)
    run = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, timeout=60)
    return run.stdout + run.stderr


def test_secretary_cannot_sign_before_the_chair(final):
    meeting, _chair, secretary = final
    with pytest.raises(Conflict) as error:
        signing.sign_minutes(meeting.id, secretary, DEMO_PASSPHRASE)
    assert error.value.code == "signing_order"


def test_only_the_chair_and_secretary_sign(final):
    meeting, _chair, _secretary = final
    delegate = factories.make_user(Role.DELEGATE)
    factories.make_participant(meeting, user=delegate)
    with pytest.raises(Forbidden):
        signing.sign_minutes(meeting.id, Actor.of_user(delegate), DEMO_PASSPHRASE)
    admin = factories.make_user(Role.ADMIN)
    with pytest.raises(Forbidden):
        signing.sign_minutes(meeting.id, Actor.of_user(admin), DEMO_PASSPHRASE)


def test_wrong_passphrase_is_refused_and_nothing_is_signed(final):
    meeting, chair, _secretary = final
    with pytest.raises(InvalidInput):
        signing.sign_minutes(meeting.id, chair, "not the passphrase")
    assert minutes_service.minutes_of(meeting).signatures == []
    refusal = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "minutes.sign"))
    assert refusal.outcome == "refused" and refusal.payload == {"reason": "wrong_passphrase"}


def test_chair_cannot_sign_twice(final):
    meeting, chair, _secretary = final
    signing.sign_minutes(meeting.id, chair, DEMO_PASSPHRASE)
    with pytest.raises(Conflict):
        signing.sign_minutes(meeting.id, chair, DEMO_PASSPHRASE)


def test_draft_minutes_cannot_be_signed(app):
    meeting, chair, _secretary = seed_held_meeting()
    minutes_service.draft_minutes(meeting.id, SYSTEM)
    with pytest.raises(Conflict):
        signing.sign_minutes(meeting.id, Actor.of_user(chair), DEMO_PASSPHRASE)


def test_second_signature_seals_the_meeting(final):
    meeting, chair, _secretary = final
    minutes, _pdf = _sign_both(final)
    assert minutes.status == MinutesStatus.SIGNED
    assert [s.role.value for s in minutes.signatures] == ["chair", "secretary"]
    db.session.refresh(meeting)
    assert meeting.status == MeetingStatus.SEALED and meeting.sealed_at is not None
    event = db.session.scalar(select(MeetingEvent).where(MeetingEvent.type == "meeting.sealed"))
    assert event.payload == {"wipe_confidential": True} and event.audience == "all"
    with pytest.raises(Forbidden) as error:
        access.require(chair, meeting, access.Permission.PREPARE)
    assert error.value.code == "sealed"
    with pytest.raises(Conflict):
        signing.sign_minutes(meeting.id, chair, DEMO_PASSPHRASE)


@needs_pdfsig
def test_pdfsig_reports_both_signatures_valid_and_catches_a_changed_byte(final, tmp_path):
    _minutes, pdf = _sign_both(final)
    report = _pdfsig(tmp_path, pdf)
    assert report.count("Signature Validation: Signature is Valid.") == 2, report
    assert "Signer Certificate Common Name: Trần Đức Lương" in report
    assert "Signer Certificate Common Name: Lê Thị Thu Hà" in report
    assert "Total document signed" in report
    # Change one byte inside the first revision (both signatures cover it).
    offset = pdf.index(b"stream", 200) + 20
    tampered = pdf[:offset] + bytes([pdf[offset] ^ 0x01]) + pdf[offset + 1:]
    report = _pdfsig(tmp_path, tampered)
    assert "Signature is Valid." not in report, report
    assert report.count("Digest Mismatch") == 2, report


def test_pyhanko_validates_against_the_local_ca(final):
    _minutes, pdf = _sign_both(final)
    result = verify_pdf(pdf, [ca.ca_certificate()])
    assert result.ok
    chair_sig, secretary_sig = result.signatures
    assert (chair_sig.field, secretary_sig.field) == ("sig_chair", "sig_secretary")
    assert all(s.intact and s.valid and s.trusted for s in result.signatures)
    assert chair_sig.coverage == "ENTIRE_REVISION" and chair_sig.modifications == "FORM_FILLING"
    assert secretary_sig.coverage == "ENTIRE_FILE"
    untrusted = verify_pdf(pdf, [])  # no root: intact and valid, yet a failure
    assert not untrusted.ok and not any(s.trusted for s in untrusted.signatures)
    assert all(s.intact and s.valid for s in untrusted.signatures)


def test_content_appended_after_signing_is_detected(final, tmp_path):
    _minutes, pdf = _sign_both(final)
    path = tmp_path / "altered.pdf"
    path.write_bytes(pdf)
    with pymupdf.open(path) as doc:  # an incremental update drawing over page 1
        doc[0].draw_rect(pymupdf.Rect(80, 80, 300, 120), color=(1, 0, 0), fill=(1, 1, 1))
        doc.saveIncr()
    altered = path.read_bytes()
    assert altered.startswith(pdf)
    result = verify_pdf(altered, [ca.ca_certificate()])
    assert not result.ok
    assert result.signatures[-1].coverage != "ENTIRE_FILE"
    assert "something was added to the file after sig_secretary" in result.problems


def test_stamps_show_vietnamese_names(final):
    _minutes, pdf = _sign_both(final)
    with pymupdf.open("pdf", pdf) as doc:
        doc.bake()  # widgets' appearances become page content, as a reader displays them
        text = doc[-1].get_text()
    assert "Trần Đức Lương\nChủ tọa" in text
    assert "Lê Thị Thu Hà\nThư ký" in text


def test_ca_key_is_private_and_can_be_encrypted(app, tmp_path):
    ca.init_ca("CA thử nghiệm", "Sở Nội vụ", passphrase="mật khẩu CA")
    key_path = ca.ca_dir() / "ca.key"
    assert stat.S_IMODE(os.stat(key_path).st_mode) == 0o600
    assert b"ENCRYPTED" in key_path.read_bytes()
    with pytest.raises(Conflict):
        ca.init_ca("again")
    user = factories.make_user(Role.CHAIR, full_name="Hoàng Thị Ỷ Lan")
    with pytest.raises(InvalidInput):
        ca.issue_certificate(user, "user-passphrase", ca_passphrase="wrong")
    row = ca.issue_certificate(user, "user-passphrase", ca_passphrase="mật khẩu CA")
    cert = x509.load_pem_x509_certificate(row.certificate_pem.encode())
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "Hoàng Thị Ỷ Lan"
    assert cert.issuer == ca.ca_certificate().subject
    store = ca.keystore_dir() / row.keystore_path
    assert stat.S_IMODE(os.stat(store).st_mode) == 0o600
    with pytest.raises(InvalidInput):
        ca.load_pkcs12(row, "wrong passphrase")
    with pytest.raises(InvalidInput):
        ca.issue_certificate(user, "short")


def _external_pkcs12(app, name: str, passphrase: bytes) -> bytes:
    """A certificate from an outside CA (as a national one), whose root the deployment
    configures in TRUST_ROOTS."""
    root = pki.make_root("Root CA (test)")
    folder = app.config["DATA_DIR"] / "trust"
    folder.mkdir(exist_ok=True)
    root.write_pem(folder / "root.pem")
    app.config["TRUST_ROOTS"] = (str(folder),)
    return pki.issue(pki.issue(root, "Sub CA (test)", ca=True), name).pkcs12(passphrase.decode())


def test_uploaded_pkcs12_signs(final, app):
    meeting, chair, secretary = final
    data = _external_pkcs12(app, "Lê Thị Thu Hà", b"token-passphrase")
    with pytest.raises(InvalidInput):
        ca.import_pkcs12(secretary.user, data, "wrong-passphrase")
    with pytest.raises(InvalidInput):
        ca.import_pkcs12(secretary.user, b"not a pkcs12 file", "token-passphrase")
    row = ca.import_pkcs12(secretary.user, data, "token-passphrase")
    assert not row.issued_by_local_ca
    signing.sign_minutes(meeting.id, chair, DEMO_PASSPHRASE)
    signing.sign_minutes(meeting.id, secretary, "token-passphrase", certificate_id=row.id)
    minutes = minutes_service.minutes_of(meeting)
    assert minutes.signatures[-1].certificate_fingerprint == row.fingerprint_sha256
    result = verify_pdf(minutes_service.current_pdf(minutes), trust.deployment_roots())
    assert result.ok and result.signatures[-1].signer == "Lê Thị Thu Hà"
