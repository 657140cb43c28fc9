"""The demo's own timestamp authority: a timestamping certificate from the deployment's CA.

``hemicycle demo`` must stay one command with no outside service, yet show minutes signed
PAdES B-LTA. So the demo CA issues itself a certificate for time stamping (extended key
usage timeStamping, critical) and keeps its key next to the CA's (``DATA_DIR/ca/tsa.pem``,
``tsa.key``, 0600); ``options.timestamper`` then signs the tokens in process with pyHanko's
``DummyTimeStamper``. That "TSA" is only the server's own clock under the CA's key: for the
demo only. A deployment sets ``HEMICYCLE_TSA_URL`` to a real TSA (which then wins).
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from server.services.longterm.options import demo_tsa_paths


def ensure_demo_tsa(data_dir: Path, ca_passphrase: str | None = None) -> x509.Certificate:
    """The demo TSA's certificate, issued by the CA in ``data_dir`` if not there yet."""
    cert_path, key_path = demo_tsa_paths(data_dir)
    if cert_path.is_file() and key_path.is_file():
        return x509.load_pem_x509_certificate(cert_path.read_bytes())
    ca_cert = x509.load_pem_x509_certificate((data_dir / "ca" / "ca.pem").read_bytes())
    ca_key = serialization.load_pem_private_key(
        (data_dir / "ca" / "ca.key").read_bytes(),
        ca_passphrase.encode() if ca_passphrase else None)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.now(timezone.utc)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Hemicycle demo TSA")])
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(ca_cert.subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(ca_cert.not_valid_after_utc)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                     key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, key_cert_sign=False, crl_sign=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]),
                       critical=True)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key()),
                       critical=False)
        .sign(ca_key, hashes.SHA256()))
    key_path.parent.mkdir(parents=True, exist_ok=True)
    key_path.touch(mode=0o600)
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert
