"""Issue #16's path end to end: the chair signs with hemicycle-sign on a SoftHSM2 token
through a live server, the secretary through a real CSC service; with the deployment's TSA
both signatures are timestamped and the document timestamp follows (PAdES B-LTA). pdfsig
accepts both signatures, a check after the chair's certificate has expired still passes from
what the file carries, and one flipped byte fails it.

pyHanko's own AdES LTA simulation needs revocation data the signers' CA published (its past
validation wants it): the deployment's own CA publishes none, so the last test signs the same
way with certificates of a CA with OCSP and CRLs (the chair's key on the token, the
secretary's with a CSC service on that PKI) and checks the LTA level after the certificates
expired, with the responder stopped.
"""
from __future__ import annotations

import asyncio
import contextlib
import io
import shutil
import subprocess
from datetime import datetime, timedelta, timezone

from cryptography.hazmat.primitives import serialization
from flask import current_app

from server import create_app
from server.extensions import db
from server.models import Base, MinutesStatus
from server.services.actors import Actor
from server.services.minutes import ca, minutes as minutes_service, signing, trust
from server.services.minutes.verify import problems_of, verify_minutes, verify_pdf
from server.services.signers import remote, sessions
from server.services.archive.demo_record import seed_held_meeting
from tests import pki
from tests.conftest import service_unavailable, test_config as make_config
from tests.live import LiveServer, free_port
from tests.ltv_pki import ARCH, SIGNER_DAYS, running_pki
from tests.services.signers.test_agent_softhsm import _live_minutes, agent
from tests.services.signers.test_remote_csc import csc_service, running_csc  # noqa: F401
from tests.softhsm import SoftToken


def test_token_then_csc_signed_b_lta(csc_service, tmp_path):  # noqa: F811
    with _live_minutes(tmp_path, tsa=True) as (server, token, meeting, chair, secretary):
        _row, code = sessions.open_session(meeting.id, Actor.of_user(chair))
        db.session.commit()
        run = agent(token, "--cert", "chair", "--server", server.url, code)
        assert run.returncode == 0, run.stdout + run.stderr + server.log()

        current_app.config["CSC_URL"] = csc_service
        settings = remote.CSCSettings.from_config(current_app.config)
        cert, chain = remote.credential_certificates(settings, "council/secretary")
        root = tmp_path / "csc-root.pem"
        root.write_bytes(chain[-1].public_bytes(serialization.Encoding.PEM))
        current_app.config["TRUST_ROOTS"] = (str(root),)  # the licensed CA's root
        row = ca.register_token_certificate(secretary, cert, chain,
                                            keystore=remote.PREFIX + "council/secretary")
        db.session.expire_all()
        signing.sign_minutes(meeting.id, Actor.of_user(secretary), "123456", row.id)
        db.session.commit()

        minutes = minutes_service.minutes_of(meeting)
        assert minutes.status == MinutesStatus.SIGNED
        result = verify_minutes(minutes)
        assert result.ok, problems_of(result)
        assert [s.level for s in result.signatures] == ["B-LTA", "B-LTA"]
        assert all(s.timestamped_at for s in result.signatures) and len(result.timestamps) == 1

        pdf = minutes_service.current_pdf(minutes)
        path = tmp_path / "signed.pdf"
        path.write_bytes(pdf)
        out = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True,
                             timeout=60).stdout
        assert out.count("Signature Validation: Signature is Valid.") == 2, out

        roots = trust.deployment_roots()
        later = _chair_expiry(pdf) + timedelta(days=30)
        check = verify_pdf(pdf, roots, at=later)
        assert check.ok, check.problems + [p for s in check.signatures for p in s.problems]
        flipped = bytearray(pdf)
        flipped[pdf.index(b"stream") + 40] ^= 0x01  # the first page: under every signature
        assert not verify_pdf(bytes(flipped), roots, at=later).ok


def _chair_expiry(pdf: bytes):
    from pyhanko.pdf_utils.reader import PdfFileReader

    first = PdfFileReader(io.BytesIO(pdf)).embedded_regular_signatures[0]
    return first.signer_cert["tbs_certificate"]["validity"]["not_after"].native



@contextlib.contextmanager
def _on_a_licensed_pki(tmp_path):
    """Minutes to sign where both signers hold certificates of a CA that publishes OCSP and
    CRLs (a real local PKI over HTTP, tests/ltv_pki.py): the chair's key on a SoftHSM2 token,
    the secretary's with a CSC service on the same PKI; the PKI's TSA is the deployment's."""
    if shutil.which("pdfsig") is None:
        service_unavailable("pdfsig", "apt install poppler-utils (scripts/setup --dev does)")
    with running_pki(tmp_path / "pki") as licensed:
        root = licensed.root_file()
        url = f"sqlite:///{tmp_path / 'live.db'}"
        app = create_app(make_config(tmp_path, DATABASE_URL=url, TSA_URL=licensed.tsa_url,
                                     TRUST_ROOTS=(str(root),)))
        with app.app_context():
            Base.metadata.create_all(db.engine)
            meeting, chair, secretary = seed_held_meeting()
            minutes_service.draft_minutes(meeting.id, Actor.system())
            minutes_service.finalise_minutes(meeting.id, Actor.system())
            token = SoftToken(tmp_path / "token").init()
            key = serialization.load_pem_private_key(
                (licensed.workdir / "chair.key.pem").read_bytes(), None)
            token.put("chair", "01", pki.Issued(key, licensed.cert("chair")))
            token.put_certificate("root", "09", licensed.cert("root"))
            ca.register_token_certificate(chair, licensed.cert("chair"), [licensed.cert("root")])
            db.session.commit()
            port = free_port()
            env = {"HEMICYCLE_TSA_URL": licensed.tsa_url, "HEMICYCLE_TRUST_ROOTS": str(root)}
            with running_csc(licensed.workdir / "certomancer.yml", port, tmp_path / "csc.log") \
                    as csc, LiveServer(tmp_path / "data", url, env=env) as server:
                app.config["CSC_URL"] = csc
                yield licensed, server, token, meeting, chair, secretary
            db.session.remove()


def test_on_a_pki_with_ocsp_pyhanko_validates_lta_after_expiry_with_the_responder_gone(tmp_path):
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation.ades import simulate_future_ades_lta_validation

    with _on_a_licensed_pki(tmp_path) as (licensed, server, token, meeting, chair, secretary):
        _row, code = sessions.open_session(meeting.id, Actor.of_user(chair))
        db.session.commit()
        run = agent(token, "--cert", "chair", "--server", server.url, code)
        assert run.returncode == 0, run.stdout + run.stderr + server.log()

        settings = remote.CSCSettings.from_config(current_app.config)
        cert, chain = remote.credential_certificates(settings, f"{ARCH}/secretary")
        assert cert.serial_number == licensed.cert("secretary").serial_number
        row = ca.register_token_certificate(secretary, cert, chain,
                                            keystore=remote.PREFIX + f"{ARCH}/secretary")
        db.session.expire_all()
        signing.sign_minutes(meeting.id, Actor.of_user(secretary), "123456", row.id)
        db.session.commit()

        minutes = minutes_service.minutes_of(meeting)
        assert minutes.status == MinutesStatus.SIGNED
        pdf = minutes_service.current_pdf(minutes)
        path = tmp_path / "signed.pdf"
        path.write_bytes(pdf)
        out = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True,
                             timeout=60).stdout
        assert out.count("Signature Validation: Signature is Valid.") == 2, out

        roots = trust.deployment_roots()
        spec = _hard_fail_spec(roots)
        licensed.stop()  # no OCSP responder, no CRLs, no TSA any more
        later = datetime.now(timezone.utc) + timedelta(days=SIGNER_DAYS + 365)
        assert later > licensed.cert("chair").not_valid_after_utc
        signatures = PdfFileReader(io.BytesIO(pdf)).embedded_regular_signatures
        assert [s.signer_cert.subject.native["common_name"] for s in signatures] == [
            "Trần Đức Lương", "Lê Thị Thu Hà"]
        for embedded in signatures:
            result = trust.outside_event_loop(asyncio.run)(
                simulate_future_ades_lta_validation(embedded, spec, later))
            assert result.ades_subindic.status.name == "PASSED", result.failure_msg
        check = verify_pdf(pdf, roots, at=later)
        assert check.ok, check.problems + [p for s in check.signatures for p in s.problems]
        assert [s.level for s in check.signatures] == ["B-LTA", "B-LTA"]
        flipped = bytearray(pdf)
        flipped[pdf.index(b"stream") + 40] ^= 0x01
        assert not verify_pdf(bytes(flipped), roots, at=later).ok


def _hard_fail_spec(roots):
    from pyhanko.sign.validation.policy_decl import (
        PdfSignatureValidationSpec, SignatureValidationSpec)
    from pyhanko_certvalidator.context import CertValidationPolicySpec
    from pyhanko_certvalidator.policy_decl import CertRevTrustPolicy, RevocationCheckingPolicy
    from pyhanko_certvalidator.registry import SimpleTrustManager

    policy = CertValidationPolicySpec(
        trust_manager=SimpleTrustManager.build(trust_roots=trust.to_asn1(roots)),
        revinfo_policy=CertRevTrustPolicy(RevocationCheckingPolicy.from_legacy("hard-fail")))
    return PdfSignatureValidationSpec(SignatureValidationSpec(
        policy, key_usage_settings=trust.key_usage_constraints()))
