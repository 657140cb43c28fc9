"""Minutes signed for the long term (PAdES B-LTA) against a real PKI served over HTTP.

Certomancer's animator (tests/ltv_pki.py) is the CA's OCSP responder, CRL repository and
timestamp authority, on localhost. The chair and the secretary sign with certificates of
that CA through the real signing service; the file must then prove itself with no network,
after the signers' certificates have expired and with the responder gone.
"""
from __future__ import annotations

import asyncio
import subprocess
from datetime import datetime, timedelta, timezone

import pytest

from server.extensions import db
from server.services.actors import Actor
from server.services.archive.demo_record import DEMO_PASSPHRASE
from server.services.minutes import ca, minutes as minutes_service, signing, trust
from server.services.minutes.verify import verify_pdf
from tests.ltv_pki import SIGNER_DAYS, running_pki
from tests.services.minutes.test_signing import (  # noqa: F401 - fixtures
    final, needs_pdfsig, pdfsig_installed)

AFTER_EXPIRY = timedelta(days=SIGNER_DAYS + 365)


@pytest.fixture(scope="module")
def ltv_pki(tmp_path_factory):
    with running_pki(tmp_path_factory.mktemp("ltv-pki")) as pki:
        yield pki


@pytest.fixture
def signed(app, ltv_pki, final):  # noqa: F811 - the fixture imported above
    """The minutes signed by chair and secretary with the PKI's certificates, TSA configured."""
    meeting, chair, secretary = final
    app.config["TRUST_ROOTS"] = (str(ltv_pki.root_file()),)
    app.config["TSA_URL"] = ltv_pki.tsa_url
    for actor, label in ((chair, "chair"), (secretary, "secretary")):
        ca.import_pkcs12(actor.user, ltv_pki.pkcs12(label, DEMO_PASSPHRASE), DEMO_PASSPHRASE)
    signing.sign_minutes(meeting.id, chair, DEMO_PASSPHRASE)
    signing.sign_minutes(meeting.id, secretary, DEMO_PASSPHRASE)
    db.session.commit()
    minutes = minutes_service.minutes_of(meeting)
    return minutes, minutes_service.current_pdf(minutes), trust.deployment_roots()


def test_both_signatures_are_timestamped_with_revocation_data_and_a_document_timestamp(signed):
    minutes, pdf, roots = signed
    result = verify_pdf(pdf, roots)
    assert result.ok, result.problems + [p for s in result.signatures for p in s.problems]
    assert [s.level for s in result.signatures] == ["B-LTA", "B-LTA"]
    assert [s.signer for s in result.signatures] == ["Trần Đức Lương", "Lê Thị Thu Hà"]
    assert {s.issuer for s in result.signatures} == {"Test National Root CA"}
    for sig in result.signatures:
        assert sig.timestamped_at is not None
        assert sig.revocation.startswith("good (OCSP response of")
    assert [s.modifications for s in result.signatures] == ["FORM_FILLING", "LTA_UPDATES"]
    assert len(result.timestamps) == 1


@needs_pdfsig
def test_pdfsig_reports_every_signature_valid(signed, tmp_path):
    _minutes, pdf, _roots = signed
    path = tmp_path / "minutes.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True,
                         timeout=60).stdout
    assert out.count("Signature Validation: Signature is Valid.") == 2, out
    # poppler lists the document timestamp, whose kind (ETSI.RFC3161) it cannot validate.
    assert "Timestamp-" in out and "Digest Mismatch" not in out


def test_pyhanko_validates_the_lta_level(signed):
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation.ades import simulate_future_ades_lta_validation
    from pyhanko.sign.validation.policy_decl import (
        PdfSignatureValidationSpec, SignatureValidationSpec)
    from pyhanko_certvalidator.registry import SimpleTrustManager
    from pyhanko_certvalidator.context import CertValidationPolicySpec
    from pyhanko_certvalidator.policy_decl import CertRevTrustPolicy, RevocationCheckingPolicy
    import io

    _minutes, pdf, roots = signed
    policy = CertValidationPolicySpec(
        trust_manager=SimpleTrustManager.build(trust_roots=trust.to_asn1(roots)),
        revinfo_policy=CertRevTrustPolicy(RevocationCheckingPolicy.from_legacy("hard-fail")))
    spec = PdfSignatureValidationSpec(SignatureValidationSpec(
        policy, key_usage_settings=trust.key_usage_constraints()))
    reader = PdfFileReader(io.BytesIO(pdf))
    later = datetime.now(timezone.utc) + AFTER_EXPIRY
    for embedded in reader.embedded_regular_signatures:
        # In a thread when this one runs Playwright's loop (a whole run's browser tests).
        result = trust.outside_event_loop(asyncio.run)(
            simulate_future_ades_lta_validation(embedded, spec, later))
        assert result.ades_subindic.status.name == "PASSED", result.failure_msg


def test_retimestamp_renews_the_archive_timestamp_and_the_package_still_verifies(
        signed, tmp_path):
    from server.services.archive.package import export_package
    from server.services.archive.verify import verify_package
    from server.services.longterm.retimestamp import retimestamp_package

    minutes, _pdf, roots = signed
    package = export_package(minutes.meeting_id, tmp_path / "package.zip")
    # The two certificate.imported entries inside the meeting's stretch are withheld and
    # still bound by their place in the chain: the package verifies before and after.
    before = verify_package(package, roots).problems
    assert before == [], before
    touched = retimestamp_package(package, roots)
    assert any(name.endswith("data/minutes/minutes-signed.pdf") for name in touched)
    assert any(name.endswith("manifest-sha256.txt") for name in touched)
    check = verify_package(package, roots)
    assert check.problems == before
    assert len(check.pdf.timestamps) == 2
    assert [s.level for s in check.pdf.signatures] == ["B-LTA", "B-LTA"]
    # The command, once more over the renewed file: it names what it touched.
    from click.testing import CliRunner

    from server.cli.archive import archive_group

    run = CliRunner().invoke(archive_group, ["retimestamp", str(package)])
    assert run.exit_code == 0, run.output
    assert "Touched: package.zip:" in run.output and "minutes-signed.pdf" in run.output
    assert "re-timestamped; renew before" in run.output
    again = verify_package(package, roots)
    assert again.problems == before and len(again.pdf.timestamps) == 3


def test_an_unreachable_tsa_refuses_the_signature_and_stores_nothing(app, ltv_pki, final):  # noqa: F811
    from server.errors import Conflict

    meeting, chair, _secretary = final
    app.config["TRUST_ROOTS"] = (str(ltv_pki.root_file()),)
    app.config["TSA_URL"] = "http://127.0.0.1:9/tsa"  # nothing listens there
    ca.import_pkcs12(chair.user, ltv_pki.pkcs12("chair", DEMO_PASSPHRASE), DEMO_PASSPHRASE)
    with pytest.raises(Conflict) as refused:
        signing.sign_minutes(meeting.id, chair, DEMO_PASSPHRASE)
    assert refused.value.code == "signing_service_unavailable"
    assert minutes_service.minutes_of(meeting).signatures == []


def test_after_the_signers_expire_and_with_the_ca_gone_the_file_still_proves_it(signed,
                                                                                ltv_pki):
    _minutes, pdf, roots = signed
    ltv_pki.stop()  # no OCSP responder, no CRL, no TSA any more
    later = datetime.now(timezone.utc) + AFTER_EXPIRY
    assert later > ltv_pki.cert("chair").not_valid_after_utc
    result = verify_pdf(pdf, roots, at=later)
    assert result.ok, result.problems + [p for s in result.signatures for p in s.problems]
    flipped = bytearray(pdf)
    at = pdf.index(b"stream") + 40  # in the first page's content: under every signature
    flipped[at] ^= 0x01
    broken = verify_pdf(bytes(flipped), roots, at=later)
    assert not broken.ok


def test_a_certificate_its_ca_revoked_is_refused_before_anything_is_stored(app, final, tmp_path):  # noqa: F811
    _meeting, chair, _secretary = final
    with running_pki(tmp_path / "pki") as ltv_pki:  # its own: the module's may be stopped
        _register_revoked(app, ltv_pki, chair)


def _register_revoked(app, ltv_pki, chair):
    from sqlalchemy import func, select

    from server.errors import InvalidInput
    from server.models import UserCertificate

    def registered() -> int:
        return db.session.scalar(select(func.count(UserCertificate.id))
                                 .where(UserCertificate.user_id == chair.user.id))

    before = registered()
    app.config["TRUST_ROOTS"] = (str(ltv_pki.root_file()),)
    for register in (
            lambda: ca.import_pkcs12(chair.user, ltv_pki.pkcs12("former", DEMO_PASSPHRASE),
                                     DEMO_PASSPHRASE),
            lambda: ca.register_token_certificate(chair.user, ltv_pki.cert("former"),
                                                  [ltv_pki.cert("root")])):
        with pytest.raises(InvalidInput) as error:
            register()
        assert error.value.code == "certificate_revoked", error.value.message
    assert registered() == before
    # The same CA's certificate that is not revoked registers (the refusal was the OCSP's).
    ca.register_token_certificate(chair.user, ltv_pki.cert("chair"), [ltv_pki.cert("root")])
