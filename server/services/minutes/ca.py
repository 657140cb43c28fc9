"""The deployment's own certificate authority and the signing certificates of users.

``init_ca`` creates a CA key and certificate in ``DATA_DIR/ca/`` (the key
0600, encrypted when a passphrase is given). ``issue_certificate`` gives a
user a signing certificate from it; ``import_pkcs12`` takes one a user brings
(e.g. from a national CA). Either way the user's key is kept as a PKCS#12 in
``DATA_DIR/keystore/``, encrypted under the user's own passphrase, which the
server never stores: it is asked for at signing time.
"""
from __future__ import annotations

import os
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from flask import current_app
from sqlalchemy import select

from server.errors import Conflict, InvalidInput, NotFound
from server.extensions import db
from server.models import User, UserCertificate, utcnow
from server.services import audit
from server.services.minutes import trust
from server.services.signers import backends
from server.services.actors import Actor

MIN_PASSPHRASE = 6


def ca_dir() -> Path:
    return Path(current_app.config["DATA_DIR"]) / "ca"


def keystore_dir() -> Path:
    return Path(current_app.config["DATA_DIR"]) / "keystore"


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(path, 0o600)


def _name(common_name: str, organization: str = "") -> x509.Name:
    parts = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organization:
        parts.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    return x509.Name(parts)


def ca_certificate() -> x509.Certificate | None:
    path = ca_dir() / "ca.pem"
    return x509.load_pem_x509_certificate(path.read_bytes()) if path.exists() else None


def init_ca(common_name: str, organization: str = "", *, passphrase: str | None = None,
            force: bool = False, days: int = 3650) -> x509.Certificate:
    """Create the CA key and self-signed certificate; Conflict if one exists (unless ``force``)."""
    if ca_certificate() is not None and not force:
        raise Conflict(f"A CA already exists in {ca_dir()}.", code="ca_exists")
    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    now = datetime.now(timezone.utc)
    name = _name(common_name, organization)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                     key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, key_cert_sign=True, crl_sign=True,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(ski, critical=False)
        .sign(key, hashes.SHA256())
    )
    encryption = (serialization.BestAvailableEncryption(passphrase.encode()) if passphrase
                  else serialization.NoEncryption())
    _write_private(ca_dir() / "ca.key", key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption))
    (ca_dir() / "ca.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    audit.record("ca.initialised", "ca", cert.fingerprint(hashes.SHA256()).hex(),
                 actor=Actor.system(), payload={"subject": cert.subject.rfc4514_string()})
    return cert


def _ca_key(passphrase: str | None):
    path = ca_dir() / "ca.key"
    if not path.exists():
        raise Conflict("There is no CA yet: run `hemicycle ca init` first.", code="no_ca")
    try:
        return serialization.load_pem_private_key(
            path.read_bytes(), passphrase.encode() if passphrase else None)
    except (TypeError, ValueError):
        raise InvalidInput("Wrong CA passphrase.", code="wrong_passphrase") from None


def _check_passphrase(passphrase: str) -> None:
    if len(passphrase or "") < MIN_PASSPHRASE:
        raise InvalidInput(f"The passphrase needs at least {MIN_PASSPHRASE} characters.",
                           fields={"passphrase": "too short"})


def _store(user: User, key, cert: x509.Certificate, chain: list[x509.Certificate],
           passphrase: str, *, local: bool, actor: Actor) -> UserCertificate:
    fingerprint = cert.fingerprint(hashes.SHA256()).hex()
    if db.session.scalar(select(UserCertificate.id)
                         .where(UserCertificate.fingerprint_sha256 == fingerprint)):
        raise Conflict("This certificate is already registered.", code="duplicate_certificate")
    data = pkcs12.serialize_key_and_certificates(
        user.username.encode(), key, cert, chain or None,
        serialization.BestAvailableEncryption(passphrase.encode()))
    filename = f"{uuid.uuid4().hex}.p12"
    _write_private(keystore_dir() / filename, data)
    row = UserCertificate(
        user_id=user.id, subject=cert.subject.rfc4514_string(), fingerprint_sha256=fingerprint,
        not_before=cert.not_valid_before_utc, not_after=cert.not_valid_after_utc,
        issued_by_local_ca=local, keystore_path=filename,
        certificate_pem=cert.public_bytes(serialization.Encoding.PEM).decode())
    db.session.add(row)
    db.session.flush()
    audit.record("certificate.issued" if local else "certificate.imported", "user_certificate",
                 row.id, actor=actor, payload={"user_id": user.id, "fingerprint": fingerprint,
                                               "subject": row.subject})
    return row


def _leaf(common_name: str, ca_cert: x509.Certificate, ca_key, days: int,
          email: str = ""):
    """A key and a signing certificate (digital signature, non-repudiation) from the CA."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.now(timezone.utc)
    organization = next((a.value for a in ca_cert.subject
                         if a.oid == NameOID.ORGANIZATION_NAME), "")
    builder = (
        x509.CertificateBuilder().subject_name(_name(common_name, organization))
        .issuer_name(ca_cert.subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(min(now + timedelta(days=days), ca_cert.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True,
                                     key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, key_cert_sign=False, crl_sign=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key()),
                       critical=False)
    )
    if email:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.RFC822Name(email)]), critical=False)
    return key, builder.sign(ca_key, hashes.SHA256())


def issue_certificate(user: User, passphrase: str, *, ca_passphrase: str | None = None,
                      days: int = 730, actor: Actor | None = None) -> UserCertificate:
    """A signing certificate for ``user`` from the local CA, its key under ``passphrase``."""
    _check_passphrase(passphrase)
    ca_cert = ca_certificate()
    key, cert = _leaf(user.full_name, ca_cert, _ca_key(ca_passphrase), days, user.email or "")
    return _store(user, key, cert, [ca_cert], passphrase, local=True,
                  actor=actor or Actor.system())


SEAL_FILE = "office-seal.p12"


def seal_path() -> Path:
    return ca_dir() / SEAL_FILE


def issue_office_seal(name: str, *, ca_passphrase: str | None = None, days: int = 730,
                      force: bool = False) -> x509.Certificate:
    """The office's seal (con dấu): a signing certificate from the local CA in the name of
    the body, for reports the server signs unattended (a written consultation's result).
    Its key is kept like the audit key, a file only the server's account reads; a body that
    keeps its seal in an HSM configures the server's token instead (HEMICYCLE_PKCS11_*)."""
    if seal_path().exists() and not force:
        raise Conflict(f"The office seal already exists ({seal_path()}).", code="seal_exists")
    ca_cert = ca_certificate()
    if ca_cert is None:
        raise Conflict("There is no CA yet: run `hemicycle ca init` first.", code="no_ca")
    key, cert = _leaf(name, ca_cert, _ca_key(ca_passphrase), days)
    _write_private(seal_path(), pkcs12.serialize_key_and_certificates(
        b"office-seal", key, cert, [ca_cert], serialization.NoEncryption()))
    audit.record("ca.seal_issued", "ca", cert.fingerprint(hashes.SHA256()).hex(),
                 actor=Actor.system(), payload={"subject": cert.subject.rfc4514_string()})
    return cert


def office_seal() -> bytes | None:
    """The office seal's PKCS#12 (no passphrase), or None if none was issued."""
    path = seal_path()
    return path.read_bytes() if path.is_file() else None


def import_pkcs12(user: User, data: bytes, passphrase: str, *,
                  actor: Actor | None = None) -> UserCertificate:
    """Register a PKCS#12 the user brings; kept re-encrypted under the same passphrase."""
    _check_passphrase(passphrase)
    try:
        key, cert, chain = pkcs12.load_key_and_certificates(data, passphrase.encode())
    except (ValueError, TypeError):
        raise InvalidInput("Not a PKCS#12 file, or the passphrase is wrong.",
                           code="invalid_pkcs12") from None
    if key is None or cert is None:
        raise InvalidInput("The PKCS#12 file must hold a private key and its certificate.",
                           code="invalid_pkcs12")
    problem = trust.certificate_problem(cert, list(chain), trust.deployment_roots())
    if problem is not None:
        raise InvalidInput(problem.message, code=problem.code)
    return _store(user, key, cert, list(chain), passphrase, local=False,
                  actor=actor or Actor.of_user(user))


def usable_certificate(user: User, certificate_id: int | None = None,
                       kind: str | None = None) -> UserCertificate:
    """The certificate the user signs with: the one named, else their newest valid one
    (of ``kind``: "server" for a key the server can use, "own_token" for the user's token)."""
    now = utcnow()
    query = select(UserCertificate).where(UserCertificate.user_id == user.id,
                                          UserCertificate.revoked_at.is_(None),
                                          UserCertificate.not_after > now)
    if kind == "own_token":
        query = query.where(UserCertificate.keystore_path == backends.OWN_TOKEN)
    elif kind == "server":
        query = query.where(UserCertificate.keystore_path != backends.OWN_TOKEN)
    if certificate_id is not None:
        query = query.where(UserCertificate.id == certificate_id)
    row = db.session.scalars(query.order_by(UserCertificate.created_at.desc(),
                                            UserCertificate.id.desc())).first()
    if row is None:
        raise NotFound("No valid signing certificate for this user.", code="no_certificate")
    return row


def register_token_certificate(user: User, cert: x509.Certificate,
                               chain: list[x509.Certificate], *, on_server: bool = False,
                               keystore: str | None = None,
                               actor: Actor | None = None) -> UserCertificate:
    """Register a certificate whose key stays on a token: the user's own (signed with
    ``hemicycle-sign``), or the server's (``HEMICYCLE_PKCS11_*``). Refused unless it chains to
    the deployment's roots and is meant for signing."""
    problem = trust.certificate_problem(cert, chain, trust.deployment_roots())
    if problem is not None:
        raise InvalidInput(problem.message, code=problem.code)
    fingerprint = cert.fingerprint(hashes.SHA256()).hex()
    if db.session.scalar(select(UserCertificate.id)
                         .where(UserCertificate.fingerprint_sha256 == fingerprint)):
        raise Conflict("This certificate is already registered.", code="duplicate_certificate")
    row = UserCertificate(
        user_id=user.id, subject=cert.subject.rfc4514_string(), fingerprint_sha256=fingerprint,
        not_before=cert.not_valid_before_utc, not_after=cert.not_valid_after_utc,
        issued_by_local_ca=False,
        keystore_path=keystore or (backends.SERVER_TOKEN if on_server else backends.OWN_TOKEN),
        certificate_pem=cert.public_bytes(serialization.Encoding.PEM).decode())
    db.session.add(row)
    db.session.flush()
    audit.record("certificate.registered", "user_certificate", row.id,
                 actor=actor or Actor.system(),
                 payload={"user_id": user.id, "fingerprint": fingerprint, "subject": row.subject,
                          "key": keystore or ("server token" if on_server else "own token")})
    return row


def certificate_of(row: UserCertificate) -> x509.Certificate:
    return x509.load_pem_x509_certificate(row.certificate_pem.encode())


def signing_problem(pkcs12_data: bytes, passphrase: str,
                    roots: list[x509.Certificate]) -> trust.CertificateProblem | None:
    """Why the certificate in this key store may not sign now, or None."""
    _key, cert, chain = pkcs12.load_key_and_certificates(pkcs12_data, passphrase.encode())
    return trust.certificate_problem(cert, list(chain), roots)


def revoke_certificate(row: UserCertificate, actor: Actor, reason: str = "") -> UserCertificate:
    """Stop a certificate from signing; signatures it made before now stay valid."""
    if row.revoked_at is not None:
        raise Conflict("This certificate is already revoked.", code="already_revoked")
    row.revoked_at = utcnow()
    audit.record("certificate.revoked", "user_certificate", row.id, actor=actor,
                 payload={"user_id": row.user_id, "fingerprint": row.fingerprint_sha256,
                          "reason": reason})
    return row


def load_pkcs12(row: UserCertificate, passphrase: str) -> bytes:
    if row.keystore_path == backends.OWN_TOKEN:
        raise Conflict("The key of this certificate is on your own token: sign with "
                       "hemicycle-sign (a signing session).", code="key_on_token")
    path = keystore_dir() / Path(row.keystore_path).name
    if not path.is_file():
        raise Conflict("The key store file of this certificate is missing.",
                       code="keystore_missing")
    data = path.read_bytes()
    try:
        pkcs12.load_key_and_certificates(data, (passphrase or "").encode())
    except (ValueError, TypeError):
        raise InvalidInput("Wrong passphrase for this certificate.",
                           code="wrong_passphrase", fields={"passphrase": "wrong"}) from None
    return data
