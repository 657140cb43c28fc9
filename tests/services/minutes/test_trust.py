"""Verification a forger cannot pass (issue 22) and the third-field attack (issue 23, finding 3).

Real PDFs signed with pyHanko, certificates from a small test PKI (tests/pki.py), and the
same checks `minutes verify`, `archive verify`, the minutes page and signing itself use.
"""
from __future__ import annotations

import shutil
import subprocess
from datetime import datetime, timedelta, timezone

import pymupdf
import pytest
from sqlalchemy import select

from server.errors import Conflict, InvalidInput
from server.extensions import db
from server.models import Role, UserCertificate
from server.services.minutes import ca, minutes as minutes_service, signing, trust
from server.services.minutes.verify import check_record, verify_pdf
from server.services.actors import Actor
from server.services.archive.demo_record import (
    BODY, DEMO_PASSPHRASE, seed_held_meeting, seed_sealed_meeting)
from tests import factories, forgery, pki
from tests.conftest import service_unavailable

SYSTEM = Actor.system()


@pytest.fixture
def sealed(app):
    meeting = seed_sealed_meeting()
    return meeting, minutes_service.minutes_of(meeting)


def _p12(signature) -> bytes:
    return ca.load_pkcs12(db.session.get(UserCertificate, signature.certificate_id),
                          DEMO_PASSPHRASE)


def _sign_real(pdf: bytes, role: str, p12: bytes, name: str) -> bytes:
    return signing.sign_pdf(pdf, role, p12, DEMO_PASSPHRASE, signer_name=name, role_label=role)


def _verify(pdf: bytes, minutes=None):
    result = verify_pdf(pdf, trust.deployment_roots())
    if minutes is not None:
        check_record(result, pdf, minutes, minutes_service.read_blob(minutes.pdf_sha256))
    return result


def _all_problems(result) -> str:
    return " | ".join(result.problems + [f"{s.field}: {p}" for s in result.signatures
                                         for p in s.problems])


def test_genuine_minutes_pass_alone_and_against_the_record(sealed):
    _meeting, minutes = sealed
    result = _verify(minutes_service.current_pdf(minutes), minutes)
    assert result.ok, _all_problems(result)
    assert [s.field for s in result.signatures] == ["sig_chair", "sig_secretary"]
    assert all(s.trusted for s in result.signatures)


@pytest.mark.parametrize("make_forger", [
    pytest.param(lambda: pki.make_root("Hemicycle CA - " + BODY), id="a CA named like the real one"),
    pytest.param(None, id="self-signed certificates"),
])
def test_forged_minutes_in_the_right_names_fail(sealed, make_forger):
    _meeting, minutes = sealed
    if make_forger:
        forger = make_forger()
        chair, secretary = pki.issue(forger, "Trần Đức Lương"), pki.issue(forger, "Lê Thị Thu Hà")
    else:
        chair, secretary = pki.self_signed("Trần Đức Lương"), pki.self_signed("Lê Thị Thu Hà")
    forged = forgery.forge(minutes, chair, secretary)
    with pymupdf.open("pdf", forged) as doc:
        assert "KHÔNG thông qua" in "".join(page.get_text() for page in doc)
    untrusted_view = verify_pdf(forged, [chair.cert, secretary.cert, *chair.chain])
    assert untrusted_view.ok  # trusting the forger's own roots, it would pass: the point
    result = _verify(forged)
    assert not result.ok
    assert [s.signer for s in result.signatures] == ["Trần Đức Lương", "Lê Thị Thu Hà"]
    for sig in result.signatures:
        assert sig.intact and sig.valid and not sig.trusted
        assert sig.problems == ["not trusted: its certificate " + (
            "does not lead to a trusted root" if make_forger else "is self-signed")]
    against_record = _verify(forged, minutes)
    assert "the file does not extend the minutes as they were finalised" in against_record.problems
    assert ("not signed with a certificate registered for the meeting's chair"
            in against_record.signatures[0].problems)


def test_without_any_trusted_root_nothing_passes(sealed):
    _meeting, minutes = sealed
    result = verify_pdf(minutes_service.current_pdf(minutes), [])
    assert not result.ok
    assert all("no trust roots" in s.problems[0] for s in result.signatures)


def test_right_people_in_the_wrong_roles_fail_against_the_record(sealed):
    _meeting, minutes = sealed
    chair_sig, secretary_sig = minutes.signatures
    finalised = minutes_service.read_blob(minutes.pdf_sha256)
    swapped = _sign_real(finalised, "chair", _p12(secretary_sig), "Lê Thị Thu Hà")
    swapped = _sign_real(swapped, "secretary", _p12(chair_sig), "Trần Đức Lương")
    assert verify_pdf(swapped, trust.deployment_roots()).ok  # the PDF alone cannot know roles
    result = _verify(swapped, minutes)
    assert not result.ok
    assert result.signatures[0].problems == [
        "signed with the secretary's certificate in the chair's place"]
    assert result.signatures[1].problems == [
        "signed with the chair's certificate in the secretary's place"]


def test_secretary_before_chair_fails_even_without_the_record(sealed):
    _meeting, minutes = sealed
    chair_sig, secretary_sig = minutes.signatures
    finalised = minutes_service.read_blob(minutes.pdf_sha256)
    reversed_order = _sign_real(finalised, "secretary", _p12(secretary_sig), "Lê Thị Thu Hà")
    reversed_order = _sign_real(reversed_order, "chair", _p12(chair_sig), "Trần Đức Lương")
    result = _verify(reversed_order)
    assert not result.ok
    assert ("the signatures fill sig_secretary, sig_chair, not sig_chair, sig_secretary in this "
            "order") in result.problems


def _third_field_attack(minutes) -> bytes:
    chair_signed = minutes_service.read_blob(minutes.signatures[0].pdf_sha256)
    return _sign_real(forgery.add_overlay_field(chair_signed), "secretary",
                      _p12(minutes.signatures[1]), "Lê Thị Thu Hà")


def test_finding_3_a_third_field_after_the_chair_fails(sealed):
    _meeting, minutes = sealed
    attacked = _third_field_attack(minutes)
    result = _verify(attacked)
    assert all(s.ok for s in result.signatures)  # both signatures are genuine and trusted
    assert not result.ok
    assert result.problems == [
        "the form has the fields sig_chair, sig_secretary, sig_note, not exactly sig_chair, "
        "sig_secretary",
        "page 1 has an annotation that is not a signature field of the minutes (/Widget sig_note)",
        "something was added to the file between sig_chair and sig_secretary"]
    assert not _verify(attacked, minutes).ok


def test_finding_3_pyhanko_alone_accepts_the_overlay(sealed):
    """Why the layout check exists: pyHanko's own difference analysis calls it form filling."""
    from io import BytesIO

    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature

    _meeting, minutes = sealed
    reader = PdfFileReader(BytesIO(_third_field_attack(minutes)))
    from pyhanko_certvalidator import ValidationContext

    context = ValidationContext(trust_roots=trust.to_asn1(trust.deployment_roots()))
    chair_status = trust.outside_event_loop(validate_pdf_signature)(reader.embedded_signatures[0],
                                                                    context)
    assert chair_status.trusted
    assert chair_status.intact and chair_status.valid
    assert chair_status.modification_level.name == "FORM_FILLING"


def test_finding_3_pdfsig_shows_a_third_field(sealed, tmp_path):
    if shutil.which("pdfsig") is None:
        service_unavailable("pdfsig", "apt install poppler-utils (scripts/setup --dev does)")
    _meeting, minutes = sealed
    path = tmp_path / "attacked.pdf"
    path.write_bytes(_third_field_attack(minutes))
    report = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True,
                            timeout=60).stdout
    # pdfsig is content: both signatures valid, the last one over the whole file...
    assert report.count("Signature Validation: Signature is Valid.") == 2, report
    assert "Total document signed" in report
    # ...and lists the unsigned third field that `minutes verify` refuses.
    assert "Signature #3:\n  - Signature Field Name: sig_note" in report
    assert "The signature form field is not signed." in report


def test_an_overlay_in_the_secretarys_own_revision_fails(sealed):
    """The same box added by someone holding the secretary's key, in one revision."""
    _meeting, minutes = sealed
    chair_signed = minutes_service.read_blob(minutes.signatures[0].pdf_sha256)
    with_box = forgery.add_overlay_field(chair_signed, name="sig_secretary_note")
    attacked = _sign_real(with_box, "secretary", _p12(minutes.signatures[1]), "Lê Thị Thu Hà")
    result = _verify(attacked)
    assert not result.ok
    assert any("not exactly sig_chair, sig_secretary" in p for p in result.problems)


def test_the_secretary_cannot_be_made_to_sign_over_an_overlay(app):
    meeting, chair, secretary = seed_held_meeting()
    minutes_service.draft_minutes(meeting.id, SYSTEM)
    minutes_service.finalise_minutes(meeting.id, SYSTEM)
    signing.sign_minutes(meeting.id, Actor.of_user(chair), DEMO_PASSPHRASE)
    minutes = minutes_service.minutes_of(meeting)
    # An insider with the data directory and the database swaps in the chair-signed file
    # with the box added.
    with_box = forgery.add_overlay_field(minutes_service.current_pdf(minutes))
    minutes.signatures[0].pdf_sha256 = minutes_service.store_blob(with_box)
    db.session.commit()
    with pytest.raises(Conflict) as error:
        signing.sign_minutes(meeting.id, Actor.of_user(secretary), DEMO_PASSPHRASE)
    assert error.value.code == "minutes_altered"
    assert "sig_note" in error.value.message
    assert len(minutes_service.minutes_of(meeting).signatures) == 1


@pytest.fixture
def national(app, tmp_path):
    """A national root with an intermediate, configured in TRUST_ROOTS."""
    root = pki.make_root("Root CA Quốc gia (thử nghiệm)")
    intermediate = pki.issue(root, "CA cấp dưới (thử nghiệm)", ca=True)
    app.config["TRUST_ROOTS"] = (str(root.write_pem(tmp_path / "national-root.pem")),)
    return intermediate


def test_a_certificate_under_a_configured_root_is_accepted_and_trusted(national):
    meeting, chair, secretary = seed_held_meeting()
    minutes_service.draft_minutes(meeting.id, SYSTEM)
    minutes_service.finalise_minutes(meeting.id, SYSTEM)
    token = pki.issue(national, "Lê Thị Thu Hà")
    row = ca.import_pkcs12(secretary, token.pkcs12("token-passphrase"), "token-passphrase")
    signing.sign_minutes(meeting.id, Actor.of_user(chair), DEMO_PASSPHRASE)
    signing.sign_minutes(meeting.id, Actor.of_user(secretary), "token-passphrase",
                         certificate_id=row.id)
    minutes = minutes_service.minutes_of(meeting)
    result = _verify(minutes_service.current_pdf(minutes), minutes)
    assert result.ok, _all_problems(result)


NOW = datetime.now(timezone.utc)


@pytest.mark.parametrize("kwargs, code", [
    ({}, "certificate_untrusted"),  # self-signed, below
    ({"key_usage": pki.ENCIPHERMENT_ONLY}, "certificate_not_for_signing"),
    ({"extended": pki.SERVER_AUTH_ONLY}, "certificate_not_for_signing"),
    ({"not_before": NOW - timedelta(days=30), "not_after": NOW - timedelta(days=1)},
     "certificate_expired"),
    ({"not_before": NOW + timedelta(days=2), "not_after": NOW + timedelta(days=30)},
     "certificate_not_yet_valid"),
])
def test_unfit_certificates_are_refused_at_upload(national, kwargs, code):
    user = factories.make_user(Role.SECRETARY, full_name="Lê Thị Thu Hà")
    pki_user = pki.self_signed("Lê Thị Thu Hà") if not kwargs else pki.issue(
        national, "Lê Thị Thu Hà", **kwargs)
    with pytest.raises(InvalidInput) as error:
        ca.import_pkcs12(user, pki_user.pkcs12("token-passphrase"), "token-passphrase")
    assert error.value.code == code, error.value.message
    assert db.session.scalar(select(UserCertificate.id)
                             .where(UserCertificate.user_id == user.id)) is None


@pytest.mark.parametrize("kwargs, message", [
    ({"key_usage": pki.ENCIPHERMENT_ONLY}, "its certificate is not meant for signing documents"),
    ({"not_before": NOW - timedelta(days=30), "not_after": NOW - timedelta(days=1)},
     "its certificate had expired when it signed"),
])
def test_unfit_signers_fail_verification(sealed, national, kwargs, message):
    _meeting, minutes = sealed
    finalised = minutes_service.read_blob(minutes.pdf_sha256)
    unfit = pki.issue(national, "Trần Đức Lương", **kwargs)
    pdf = forgery.sign_as(finalised, "chair", unfit)
    pdf = _sign_real(pdf, "secretary", _p12(minutes.signatures[1]), "Lê Thị Thu Hà")
    result = _verify(pdf)
    assert not result.ok
    assert any(p.startswith(message) for p in result.signatures[0].problems), result.signatures[0]
    assert result.signatures[1].ok


def test_a_root_no_longer_trusted_stops_signing(national, app):
    meeting, chair, secretary = seed_held_meeting()
    minutes_service.draft_minutes(meeting.id, SYSTEM)
    minutes_service.finalise_minutes(meeting.id, SYSTEM)
    token = pki.issue(national, "Trần Đức Lương")
    row = ca.import_pkcs12(chair, token.pkcs12("token-passphrase"), "token-passphrase")
    app.config["TRUST_ROOTS"] = ()
    with pytest.raises(Conflict) as error:
        signing.sign_minutes(meeting.id, Actor.of_user(chair), "token-passphrase",
                             certificate_id=row.id)
    assert error.value.code == "certificate_untrusted"


def test_a_certificate_revoked_before_it_signed_fails_against_the_record(sealed):
    _meeting, minutes = sealed
    chair_sig = minutes.signatures[0]
    row = db.session.get(UserCertificate, chair_sig.certificate_id)
    ca.revoke_certificate(row, SYSTEM, "key lost")
    pdf = minutes_service.current_pdf(minutes)
    assert _verify(pdf, minutes).ok  # revoked after it signed: the signature stands
    row.revoked_at = chair_sig.signed_at - timedelta(minutes=1)
    result = _verify(pdf, minutes)
    assert not result.ok
    assert result.signatures[0].problems[0].startswith("its certificate was revoked on")
    with pytest.raises(Conflict):
        ca.revoke_certificate(row, SYSTEM)
