"""A real local PKI for long-term signatures: root CA, TSA, OCSP responder and CRLs over HTTP.

Built with Certomancer (a dev dependency): the certificates are made from the YAML below, and
its "animator" (a WSGI application) answers OCSP requests, timestamp requests and CRL
downloads exactly as a national CA's services would. It runs here as a real HTTP server on
localhost, in a thread, so the server code under test fetches revocation data and timestamps
over the network, from the URLs in the certificates (AIA, CRL distribution points).

The signers' certificates expire after ``SIGNER_DAYS``; the TSA's lasts ten years, so a
validation "years later" (after the signers expire) must rest on the embedded data alone.
"""
from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ARCH = "hemicycle"
SIGNER_DAYS = 30
ENTITIES = ("root", "tsa", "ocsp", "chair", "secretary", "former")

_YAML = """
external-url-prefix: "{prefix}"
keysets:
  hemicycle:
    path-prefix: "{keys}"
    keys:
{keys_yaml}
pki-architectures:
  hemicycle:
    keyset: hemicycle
    entity-defaults:
      country-name: VN
      organization-name: "Cơ quan chứng thực thử nghiệm"
    entities:
      root: {{common-name: "Test National Root CA"}}
      tsa: {{common-name: "Test Time Stamping Authority"}}
      ocsp: {{common-name: "Test OCSP Responder"}}
      chair: {{common-name: "Trần Đức Lương"}}
      secretary: {{common-name: "Lê Thị Thu Hà"}}
      former: {{common-name: "Nguyễn Văn Cũ"}}
    certs:
      root:
        subject: root
        issuer: root
        validity: {{valid-from: "{start}", valid-to: "{root_end}"}}
        profiles:
          - id: simple-ca
            params: {{crl-repo: root, ocsp-service: root}}
      ocsp:
        issuer: root
        validity: {{valid-from: "{start}", valid-to: "{tsa_end}"}}
        profiles: [ocsp-responder]
      tsa:
        issuer: root
        validity: {{valid-from: "{start}", valid-to: "{tsa_end}"}}
        extensions:
          - id: key_usage
            critical: true
            smart-value: {{schema: key-usage, params: [digital_signature]}}
          - id: extended_key_usage
            critical: true
            value: [time_stamping]
      chair:
        issuer: root
        validity: {{valid-from: "{start}", valid-to: "{signer_end}"}}
        profiles: [digsig-commitment]
      secretary:
        issuer: root
        validity: {{valid-from: "{start}", valid-to: "{signer_end}"}}
        profiles: [digsig-commitment]
      former:  # revoked by its CA: a lost token
        issuer: root
        validity: {{valid-from: "{start}", valid-to: "{signer_end}"}}
        profiles: [digsig-commitment]
        revocation: {{revoked-since: "{start}", reason: key_compromise}}
    services:
      ocsp:
        root: {{for-issuer: root, responder-cert: ocsp, signing-key: ocsp}}
      crl-repo:
        root: {{for-issuer: root, signing-key: root, simulated-update-schedule: "P30D"}}
      cert-repo:
        root: {{for-issuer: root, publish-issued-certs: yes}}
      time-stamping:
        tsa: {{signing-key: tsa, signing-cert: tsa}}
"""


@dataclass
class LongTermPki:
    url: str  # the services' base URL
    arch: object  # certomancer's PKIArchitecture
    workdir: Path
    server: object
    thread: threading.Thread

    @property
    def tsa_url(self) -> str:
        return f"{self.url}/{ARCH}/tsa/tsa"

    def cert(self, label: str):
        """A certificate as ``cryptography`` reads it."""
        from cryptography import x509

        return x509.load_der_x509_certificate(self.arch.get_cert(label).dump())

    def pem(self, label: str) -> bytes:
        from cryptography.hazmat.primitives.serialization import Encoding

        return self.cert(label).public_bytes(Encoding.PEM)

    def root_file(self) -> Path:
        path = self.workdir / "root.pem"
        path.write_bytes(self.pem("root"))
        return path

    def pkcs12(self, label: str, passphrase: str) -> bytes:
        from cryptography.hazmat.primitives.serialization import pkcs12

        key = serialization.load_pem_private_key(
            (self.workdir / f"{label}.key.pem").read_bytes(), None)
        return pkcs12.serialize_key_and_certificates(
            label.encode(), key, self.cert(label), [self.cert("root")],
            serialization.BestAvailableEncryption(passphrase.encode()))

    def stop(self) -> None:
        """Stop the OCSP responder, TSA and CRL server (as if the CA were gone)."""
        if self.thread.is_alive():
            self.server.shutdown()
            self.server.server_close()
            self.thread.join(5)


@contextlib.contextmanager
def running_pki(workdir: Path):
    """Make the PKI in ``workdir`` and serve it on a free localhost port until the end."""
    from certomancer.integrations.animator import Animator, AnimatorArchStore
    from certomancer.registry import CertomancerConfig
    from werkzeug.serving import WSGIRequestHandler, make_server

    class QuietHandler(WSGIRequestHandler):
        def log_request(self, *_args):  # one line per OCSP/TSA request is noise in tests
            pass

    workdir.mkdir(parents=True, exist_ok=True)
    for label in ENTITIES:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        (workdir / f"{label}.key.pem").write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
    # The port must be known before the certificates name their URLs: bind first.
    holder: dict = {}
    server = make_server("127.0.0.1", 0, lambda env, start: holder["app"](env, start),
                         threaded=True, request_handler=QuietHandler)
    prefix = f"http://127.0.0.1:{server.server_port}"
    now = datetime.now(timezone.utc).replace(microsecond=0)
    stamp = "%Y-%m-%dT%H:%M:%S+0000"
    text = _YAML.format(
        prefix=prefix, keys=workdir,
        keys_yaml="\n".join(f"      {label}: {{path: {label}.key.pem}}" for label in ENTITIES),
        start=(now - timedelta(days=1)).strftime(stamp),
        signer_end=(now + timedelta(days=SIGNER_DAYS)).strftime(stamp),
        tsa_end=(now + timedelta(days=3650)).strftime(stamp),
        root_end=(now + timedelta(days=7300)).strftime(stamp))
    (workdir / "certomancer.yml").write_text(text)  # e.g. for a CSC service on the same PKI
    config = CertomancerConfig.from_yaml(text, key_search_dir=str(workdir))
    arch = config.get_pki_arch(ARCH)
    holder["app"] = Animator(AnimatorArchStore({ARCH: arch}), with_web_ui=False)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    pki = LongTermPki(prefix, arch, workdir, server, thread)
    try:
        yield pki
    finally:
        pki.stop()
