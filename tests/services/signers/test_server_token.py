"""A key on a token plugged into the server (an HSM, the body's seal): pyHanko's PKCS#11
signer on SoftHSM2, configured with HEMICYCLE_PKCS11_*; pdfsig and `minutes verify` agree."""
from __future__ import annotations

import shutil
import subprocess

import pytest
from cryptography.hazmat.primitives import serialization

from server.errors import Conflict
from server.extensions import db
from server.models import MinutesStatus
from server.services.actors import Actor
from server.services.archive.demo_record import DEMO_PASSPHRASE, seed_held_meeting
from server.services.minutes import ca, minutes as minutes_service, signing
from server.services.minutes.verify import problems_of, verify_minutes
from server.services.signers import backends
from tests import pki
from tests.conftest import service_unavailable
from tests.softhsm import SoftToken


@pytest.fixture
def sealed_by_token(app, tmp_path, monkeypatch):
    token = SoftToken(tmp_path / "token", label="seal").init()
    monkeypatch.setenv("SOFTHSM2_CONF", str(token.conf))
    meeting, chair, secretary = seed_held_meeting()
    minutes_service.draft_minutes(meeting.id, Actor.system())
    minutes_service.finalise_minutes(meeting.id, Actor.system())
    key = serialization.load_pem_private_key((ca.ca_dir() / "ca.key").read_bytes(), None)
    token.put("seal", "0a", pki.issue(pki.Issued(key, ca.ca_certificate()), secretary.full_name))
    app.config.update(PKCS11_MODULE=token.module, PKCS11_TOKEN="seal", PKCS11_KEY="seal",
                      PKCS11_PIN_FILE=str(token.pin_file))
    settings = backends.TokenSettings.from_config(app.config)
    row = ca.register_token_certificate(secretary, backends.token_certificate(settings), [],
                                        on_server=True)
    db.session.commit()
    return meeting, chair, secretary, row


def test_the_secretary_signs_with_the_servers_token(sealed_by_token, app, tmp_path):
    """One test on purpose: SoftHSM2 reads its token directory once per process (at the
    module's C_Initialize), so this process sees one token, made here."""
    if shutil.which("pdfsig") is None:
        service_unavailable("pdfsig", "apt install poppler-utils (scripts/setup --dev does)")
    meeting, chair, secretary, row = sealed_by_token
    signing.sign_minutes(meeting.id, Actor.of_user(chair), DEMO_PASSPHRASE)
    db.session.commit()
    pin_file = app.config["PKCS11_PIN_FILE"]

    # A wrong PIN, then no token configured: refused, nothing signed.
    wrong = tmp_path / "wrong-pin"
    wrong.write_text("000000")
    for setting, value in (("PKCS11_PIN_FILE", str(wrong)), ("PKCS11_MODULE", None)):
        module = app.config["PKCS11_MODULE"]
        app.config[setting] = value
        with pytest.raises(Conflict) as error:
            signing.sign_minutes(meeting.id, Actor.of_user(secretary), "", certificate_id=row.id)
        assert error.value.code == "token_unavailable"
        db.session.rollback()
        assert len(minutes_service.minutes_of(meeting).signatures) == 1
        app.config.update(PKCS11_PIN_FILE=pin_file, PKCS11_MODULE=module)

    signature = signing.sign_minutes(meeting.id, Actor.of_user(secretary), "",
                                     certificate_id=row.id)
    db.session.commit()
    assert signature.certificate_fingerprint == row.fingerprint_sha256
    minutes = minutes_service.minutes_of(meeting)
    assert minutes.status == MinutesStatus.SIGNED
    assert verify_minutes(minutes).ok, problems_of(verify_minutes(minutes))
    pdf = tmp_path / "sealed.pdf"
    pdf.write_bytes(minutes_service.current_pdf(minutes))
    run = subprocess.run(["pdfsig", str(pdf)], capture_output=True, text=True, timeout=60)
    assert run.stdout.count("Signature is Valid.") == 2, run.stdout + run.stderr
