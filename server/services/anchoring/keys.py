"""The server's audit key: what signs the checkpoints of the audit chain's head.

By default an ECDSA P-256 key kept in ``DATA_DIR/audit/`` (``audit.key``, 0600, and its
public half ``audit-key.pem``), created on first use as the deployment CA's keys are.
P-256 with SHA-256 is what hardware tokens commonly offer, so a PKCS#11 signer can take
its place later: it only has to provide ``key_id``, ``public_pem`` and ``sign`` (see
``signer``). ``HEMICYCLE_AUDIT_KEY`` names another key file; a ``pkcs11:`` URI is refused
for now, rather than silently signing with a file key.

Verifying needs only the public key: ``verify_signature`` takes its PEM.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import current_app

PUBLIC_NAME = "audit-key.pem"
PRIVATE_NAME = "audit.key"


class AuditKeyError(Exception):
    """The audit key cannot be used (unsupported setting, unreadable file)."""


def audit_dir(data_dir: Path | None = None) -> Path:
    return Path(data_dir or current_app.config["DATA_DIR"]) / "audit"


def key_id(public_pem: bytes) -> str:
    """The sha256 of the public key (SubjectPublicKeyInfo, DER), in hex: what a checkpoint
    names its key by, and what an inspector compares with a copy kept elsewhere."""
    public = serialization.load_pem_public_key(public_pem)
    der = public.public_bytes(serialization.Encoding.DER,
                              serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


class FileSigner:
    """An ECDSA P-256 key in a PEM file, created (0600) with its public half on first use."""

    def __init__(self, private_path: Path):
        self.private_path = private_path
        self.public_path = private_path.with_name(PUBLIC_NAME)
        self._key = None

    def _load(self):
        if self._key is None:
            if not self.private_path.exists():
                self._create()
            try:
                self._key = serialization.load_pem_private_key(
                    self.private_path.read_bytes(), None)
            except (OSError, ValueError, TypeError) as exc:
                raise AuditKeyError(f"cannot read the audit key {self.private_path}: {exc}") \
                    from None
        return self._key

    def _create(self) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        self.private_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:  # O_EXCL: two workers starting at once keep the first key, never mix two
            fd = os.open(self.private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return
        with os.fdopen(fd, "wb") as handle:
            handle.write(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
        self.public_path.write_bytes(key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))

    def public_pem(self) -> bytes:
        key = self._load()
        if not self.public_path.exists():
            self.public_path.write_bytes(key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
        return self.public_path.read_bytes()

    def key_id(self) -> str:
        return key_id(self.public_pem())

    def sign(self, data: bytes) -> bytes:
        """An ECDSA signature (DER) over sha256(data)."""
        return self._load().sign(data, ec.ECDSA(hashes.SHA256()))


def signer(config=None) -> FileSigner:
    """The configured audit signer: ``HEMICYCLE_AUDIT_KEY`` (a key file), else the data
    directory's own key."""
    config = config or current_app.config
    setting = (config.get("AUDIT_KEY") or "").strip()
    if setting.startswith("pkcs11:"):
        raise AuditKeyError("PKCS#11 audit keys are not supported yet: unset HEMICYCLE_AUDIT_KEY "
                            "or name a PEM key file.")
    path = Path(setting) if setting else audit_dir(config["DATA_DIR"]) / PRIVATE_NAME
    return FileSigner(path)


def public_key_path(config=None) -> Path:
    """Where the public half of the configured audit key is kept."""
    return signer(config).public_path


def verify_signature(public_pem: bytes, data: bytes, signature: bytes) -> bool:
    try:
        public = serialization.load_pem_public_key(public_pem)
    except ValueError:
        return False
    if not isinstance(public, ec.EllipticCurvePublicKey):
        return False
    try:
        public.verify(signature, data, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True
