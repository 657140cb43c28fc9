"""A small test PKI built with `cryptography`: roots, signing certificates, PKCS#12 files.

Used to make what a forger makes (a CA of their own, certificates in the chair's and
the secretary's names) and what a deployment trusts besides its own CA (a "national"
root with an intermediate), without hand-written ASN.1.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

SIGNING = dict(digital_signature=True, content_commitment=True, key_encipherment=False,
               data_encipherment=False, key_agreement=False, key_cert_sign=False,
               crl_sign=False, encipher_only=False, decipher_only=False)
ENCIPHERMENT_ONLY = {**SIGNING, "digital_signature": False, "content_commitment": False,
                     "key_encipherment": True}


@dataclass
class Issued:
    key: rsa.RSAPrivateKey
    cert: x509.Certificate
    chain: list[x509.Certificate] = field(default_factory=list)

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def pkcs12(self, passphrase: str) -> bytes:
        return pkcs12.serialize_key_and_certificates(
            b"key", self.key, self.cert, self.chain or None,
            serialization.BestAvailableEncryption(passphrase.encode()))

    def write_pem(self, path: Path) -> Path:
        path.write_bytes(self.pem)
        return path


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_root(common_name: str, days: int = 3650) -> Issued:
    key = _key()
    now = datetime.now(timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(_name(common_name))
            .issuer_name(_name(common_name)).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
            .add_extension(x509.KeyUsage(**{**SIGNING, "key_cert_sign": True, "crl_sign": True}),
                           critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .sign(key, hashes.SHA256()))
    return Issued(key, cert)


def issue(issuer: Issued, common_name: str, *, ca: bool = False, key_usage: dict | None = None,
          extended: list | None = None, not_before: datetime | None = None,
          not_after: datetime | None = None) -> Issued:
    """A certificate from ``issuer``; a signing one unless told otherwise."""
    key = _key()
    now = datetime.now(timezone.utc)
    usage = ({**SIGNING, "key_cert_sign": True, "crl_sign": True} if ca
             else (key_usage or SIGNING))
    builder = (x509.CertificateBuilder().subject_name(_name(common_name))
               .issuer_name(issuer.cert.subject).public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(not_before or now - timedelta(days=1))
               .not_valid_after(not_after or now + timedelta(days=365))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None),
                              critical=True)
               .add_extension(x509.KeyUsage(**usage), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                              critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                   issuer.cert.public_key()), critical=False))
    if extended:
        builder = builder.add_extension(x509.ExtendedKeyUsage(extended), critical=False)
    cert = builder.sign(issuer.key, hashes.SHA256())
    return Issued(key, cert, [issuer.cert, *issuer.chain])


def self_signed(common_name: str) -> Issued:
    """What a forger makes in a minute: a signing certificate in someone's name, its own root."""
    root = make_root(common_name)
    return Issued(root.key, root.cert)


SERVER_AUTH_ONLY = [ExtendedKeyUsageOID.SERVER_AUTH]
