"""Signer backends: where the key is, each ending in a pyHanko ``Signer``.

The PAdES signature itself (field, metadata, stamp) is built in one place,
``server.services.minutes.signing.pdf_signer``; a backend only says who
produces the signature value.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from server.errors import Conflict


def pkcs12_signer(pkcs12_data: bytes, passphrase: str):
    """A key the server keeps, in a PKCS#12 encrypted under the user's passphrase."""
    from pyhanko.sign import signers

    return signers.SimpleSigner.load_pkcs12_data(pkcs12_data, [], passphrase.encode())


def _asn1(certificate: x509.Certificate):
    from asn1crypto import x509 as asn1_x509

    return asn1_x509.Certificate.load(certificate.public_bytes(Encoding.DER))


def external_signer(certificate: x509.Certificate, chain: list[x509.Certificate],
                    signature_value: bytes | None = None):
    """The certificate a key elsewhere signs for: a placeholder value while the document is
    prepared, the value the signer's token returned when the signature is finished."""
    from pyhanko.sign import signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    key_bits = certificate.public_key().key_size
    return signers.ExternalSigner(
        signing_cert=_asn1(certificate),
        cert_registry=SimpleCertificateStore.from_certs([_asn1(c) for c in chain]),
        signature_value=signature_value if signature_value is not None else (key_bits + 7) // 8)


@dataclass(frozen=True)
class TokenSettings:
    """A PKCS#11 token on the server (an HSM, or the body's seal on a USB token)."""

    module: str
    token_label: str
    key_label: str
    pin_file: str

    @classmethod
    def from_config(cls, config) -> "TokenSettings | None":
        if not config.get("PKCS11_MODULE"):
            return None
        return cls(config["PKCS11_MODULE"], config.get("PKCS11_TOKEN", ""),
                   config.get("PKCS11_KEY", ""), config.get("PKCS11_PIN_FILE", ""))

    def pin(self) -> str:
        try:
            return Path(self.pin_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise Conflict(f"The PIN file of the server's token cannot be read "
                           f"({exc.strerror or exc}).", code="token_unavailable") from None


def open_token(settings: TokenSettings):
    """A logged-in PKCS#11 session on the server's token; the caller closes it."""
    from pyhanko.config.pkcs11 import TokenCriteria
    from pyhanko.sign import pkcs11

    try:
        return pkcs11.open_pkcs11_session(
            settings.module, token_criteria=TokenCriteria(label=settings.token_label or None),
            user_pin=settings.pin())
    except Conflict:
        raise
    except Exception as exc:  # python-pkcs11 raises one class per PKCS#11 return code
        raise Conflict(f"The server's token cannot be opened ({type(exc).__name__}: {exc}).",
                       code="token_unavailable") from None


def server_token_signer(session, settings: TokenSettings):
    """pyHanko's PKCS#11 signer for the key (and certificate) labelled ``key_label``."""
    from pyhanko.sign.pkcs11 import PKCS11Signer

    return PKCS11Signer(session, key_label=settings.key_label, cert_label=settings.key_label)


def token_certificate(settings: TokenSettings) -> x509.Certificate:
    """The certificate stored on the server's token beside its key."""
    session = open_token(settings)
    try:
        cert = server_token_signer(session, settings).signing_cert
    except Exception as exc:
        raise Conflict(f"No certificate labelled {settings.key_label!r} on the server's "
                       f"token ({exc}).", code="token_unavailable") from None
    finally:
        session.close()
    return x509.load_der_x509_certificate(cert.dump())


# UserCertificate.keystore_path of a certificate whose key the server does not keep as a
# PKCS#12: on the user's own token, or on the server's configured token.
OWN_TOKEN = ""
SERVER_TOKEN = "pkcs11:server"


def on_server_token(row) -> bool:
    return row.keystore_path == SERVER_TOKEN
