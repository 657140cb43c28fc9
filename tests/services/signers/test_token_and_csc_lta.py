"""Issue #16's path end to end: the chair signs with hemicycle-sign on a SoftHSM2 token
through a live server, the secretary through a real CSC service; with the deployment's TSA
both signatures are timestamped and the document timestamp follows (PAdES B-LTA). pdfsig
accepts both signatures, a check after the chair's certificate has expired still passes from
what the file carries, and one flipped byte fails it.

Not here: pyHanko's own AdES LTA simulation. On this path it answers INDETERMINATE (NO_POE):
neither the deployment's CA nor the CSC test PKI publishes revocation data, which its past
validation wants; tests/services/minutes/test_longterm.py shows it passing on a PKI with OCSP.
"""
from __future__ import annotations

import io
import subprocess
from datetime import timedelta

from cryptography.hazmat.primitives import serialization
from flask import current_app

from server.extensions import db
from server.models import MinutesStatus
from server.services.actors import Actor
from server.services.minutes import ca, minutes as minutes_service, signing, trust
from server.services.minutes.verify import problems_of, verify_minutes, verify_pdf
from server.services.signers import remote, sessions
from tests.services.signers.test_agent_softhsm import _live_minutes, agent
from tests.services.signers.test_remote_csc import csc_service  # noqa: F401 (fixture)


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

