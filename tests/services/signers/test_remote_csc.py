"""Remote signing through the CSC API: a real CSC service process (certomancer-csc-dummy,
holding the secretary's key in a certomancer PKI), pyHanko's CSC signer on our side."""
from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from server.errors import Conflict
from server.extensions import db
from server.models import MinutesStatus
from server.services.actors import Actor
from server.services.archive.demo_record import DEMO_PASSPHRASE, seed_held_meeting
from server.services.minutes import ca, minutes as minutes_service, signing
from server.services.minutes.verify import problems_of, verify_minutes
from server.services.signers import remote
from tests.conftest import service_unavailable
from tests.live import free_port, wait_until

CONFIG = """\
    external-url-prefix: "http://localhost:{port}"
    keysets:
      council:
        path-prefix: {keys}
        keys:
          root: {{path: root.key.pem}}
          secretary: {{path: secretary.key.pem}}
    pki-architectures:
      council:
        keyset: council
        entity-defaults: {{country-name: VN, organization-name: "Sở Nội vụ"}}
        entities:
          root: {{common-name: "CA Ký số Thử nghiệm"}}
          secretary: {{common-name: "Lê Thị Thu Hà"}}
        certs:
          root:
            subject: root
            issuer: root
            validity: {{valid-from: "2020-01-01T00:00:00+0000", valid-to: "2090-01-01T00:00:00+0000"}}
            extensions:
              - {{id: basic_constraints, critical: true, value: {{ca: true}}}}
              - id: key_usage
                critical: true
                smart-value: {{schema: key-usage, params: [digital_signature, key_cert_sign, crl_sign]}}
          secretary:
            subject: secretary
            issuer: root
            validity: {{valid-from: "2020-01-01T00:00:00+0000", valid-to: "2080-01-01T00:00:00+0000"}}
            extensions:
              - id: key_usage
                critical: true
                smart-value: {{schema: key-usage, params: [digital_signature, non_repudiation]}}
"""


@pytest.fixture
def csc_service(tmp_path):
    keys = tmp_path / "csc-keys"
    keys.mkdir()
    for name in ("root", "secretary"):
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        (keys / f"{name}.key.pem").write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
    port = free_port()
    config = tmp_path / "certomancer.yml"
    config.write_text(textwrap.dedent(CONFIG).format(port=port, keys=keys))
    with running_csc(config, port, tmp_path / "csc.log") as url:
        yield url


@contextlib.contextmanager
def running_csc(config: Path, port: int, log_path: Path):
    """certomancer-csc-dummy serving the keys of the certomancer ``config`` on ``port``."""
    try:
        import csc_dummy  # noqa: F401
    except ImportError:
        service_unavailable("certomancer-csc-dummy", "pip install -e '.[dev]'")
    log = open(log_path, "wb")
    process = subprocess.Popen([sys.executable, "-m", "csc_dummy", str(config), str(port), "1"],
                               stdout=log, stderr=subprocess.STDOUT)
    url = f"http://localhost:{port}"

    def up():
        try:
            return requests.post(url + "/csc/v1/info", json={}, timeout=1).ok
        except requests.RequestException:
            return process.poll() is not None
    try:
        wait_until(up, 30, "the CSC service")
        assert process.poll() is None, log_path.read_text()
        yield url
    finally:
        process.terminate()
        process.wait(10)
        log.close()


def test_the_secretary_signs_through_a_csc_service(app, csc_service, tmp_path):
    if shutil.which("pdfsig") is None:
        service_unavailable("pdfsig", "apt install poppler-utils (scripts/setup --dev does)")
    meeting, chair, secretary = seed_held_meeting()
    minutes_service.draft_minutes(meeting.id, Actor.system())
    minutes_service.finalise_minutes(meeting.id, Actor.system())
    app.config["CSC_URL"] = csc_service
    settings = remote.CSCSettings.from_config(app.config)
    cert, chain = remote.credential_certificates(settings, "council/secretary")
    root = tmp_path / "csc-root.pem"
    root.write_bytes(chain[-1].public_bytes(serialization.Encoding.PEM))
    app.config["TRUST_ROOTS"] = (str(root),)  # the licensed CA's root, as a deployment adds it
    row = ca.register_token_certificate(secretary, cert, chain,
                                        keystore=remote.PREFIX + "council/secretary")
    signing.sign_minutes(meeting.id, Actor.of_user(chair), DEMO_PASSPHRASE)
    db.session.commit()

    app.config["CSC_URL"] = None  # no service configured: refused, nothing signed
    with pytest.raises(Conflict) as error:
        signing.sign_minutes(meeting.id, Actor.of_user(secretary), "123456", row.id)
    assert error.value.code == "remote_signing_unavailable"
    db.session.rollback()
    app.config["CSC_URL"] = csc_service

    signing.sign_minutes(meeting.id, Actor.of_user(secretary), "123456", row.id)
    db.session.commit()
    minutes = minutes_service.minutes_of(meeting)
    assert minutes.status == MinutesStatus.SIGNED
    assert verify_minutes(minutes).ok, problems_of(verify_minutes(minutes))
    pdf = tmp_path / "signed.pdf"
    pdf.write_bytes(minutes_service.current_pdf(minutes))
    run = subprocess.run(["pdfsig", str(pdf)], capture_output=True, text=True, timeout=60)
    assert run.stdout.count("Signature is Valid.") == 2, run.stdout + run.stderr
