"""How a signature on the minutes is made to last: timestamp, revocation data, archive stamp.

``signature_options(roots, last=...)`` gives what ``minutes.signing`` hands pyHanko besides the
key: the PdfSignatureMetadata options, the timestamper, and the ValidationContext that fetches
the OCSP responses and CRLs named by the certificates (AIA, CRL distribution points).

* ``HEMICYCLE_TSA_URL`` set: every signature gets an RFC 3161 timestamp from that TSA
  (PAdES B-T), the chains and revocation data are embedded in the document security store
  (DSS, B-LT), and after the last signature a document timestamp (B-LTA).
* Unset, but the demo made a timestamp key of its own CA (``DATA_DIR/ca/tsa.pem``,
  ``tsa.key``): the same levels, with pyHanko's in-process ``DummyTimeStamper`` signing the
  tokens with that key. For the demo only: such a "TSA" is the server's own clock.
* Neither: PAdES B-B, as before (the signing time is the server's claim).
"""
from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509

from server.config import data_dir_from_env
from server.errors import Conflict
from server.services.minutes import trust

DEMO_TSA_CERT = "tsa.pem"
DEMO_TSA_KEY = "tsa.key"
TIMEOUT_SECONDS = 10


@dataclass
class SignatureOptions:
    metadata: dict = field(default_factory=dict)  # extra PdfSignatureMetadata keywords
    timestamper: object | None = None  # a pyHanko TimeStamper, or None for B-B
    level: str = "B-B"  # the level the signature will reach


def _config() -> tuple[str | None, Path]:
    try:
        from flask import current_app

        return current_app.config.get("TSA_URL"), Path(current_app.config["DATA_DIR"])
    except RuntimeError:  # a command run with the environment only
        return os.environ.get("HEMICYCLE_TSA_URL") or None, data_dir_from_env()


def demo_tsa_paths(data_dir: Path) -> tuple[Path, Path]:
    return data_dir / "ca" / DEMO_TSA_CERT, data_dir / "ca" / DEMO_TSA_KEY


def timestamper():
    """The configured timestamper (the TSA URL, else the demo's own), or None."""
    url, data_dir = _config()
    if url:
        from pyhanko.sign.timestamps import HTTPTimeStamper

        return HTTPTimeStamper(url, timeout=TIMEOUT_SECONDS)
    cert_path, key_path = demo_tsa_paths(data_dir)
    if cert_path.is_file() and key_path.is_file():
        from asn1crypto import keys as asn1_keys
        from cryptography.hazmat.primitives import serialization
        from pyhanko.sign.timestamps import DummyTimeStamper

        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), None)
        ca_path = data_dir / "ca" / "ca.pem"
        chain = trust.pem_certificates(ca_path.read_bytes()) if ca_path.is_file() else []
        return DummyTimeStamper(
            tsa_cert=trust.to_asn1([cert])[0],
            tsa_key=asn1_keys.PrivateKeyInfo.load(key.private_bytes(
                serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption())),
            certs_to_embed=trust.to_asn1(chain))
    return None


def signing_context(roots: list[x509.Certificate], chain: list[x509.Certificate] = ()):
    """A ValidationContext that fetches revocation data (OCSP first, then CRLs) from the
    URLs in the certificates, so pyHanko can embed it; hard-fail: a certificate that names a
    revocation service which cannot answer is not signed with."""
    from pyhanko_certvalidator import ValidationContext

    return ValidationContext(trust_roots=trust.to_asn1(roots), other_certs=trust.to_asn1(chain),
                             allow_fetching=True, revocation_mode="hard-fail")


def signature_options(roots: list[x509.Certificate], chain: list[x509.Certificate] = (), *,
                      last: bool) -> SignatureOptions:
    """The options for one signature; ``last``: the secretary's, after which the document
    timestamp goes (B-LTA)."""
    stamper = timestamper()
    if stamper is None:
        return SignatureOptions()
    metadata = {"embed_validation_info": True, "use_pades_lta": last,
                "validation_context": signing_context(roots, chain)}
    return SignatureOptions(metadata, stamper, "B-LTA" if last else "B-LT")


@contextlib.contextmanager
def service_errors():
    """A TSA, OCSP responder or CRL server that cannot be reached, or answers that the
    certificate is revoked, refuses the signature with a clear error; nothing is stored."""
    from pyhanko.sign.general import SigningError
    from pyhanko.sign.timestamps.common_utils import TimestampRequestError
    from pyhanko_certvalidator.errors import PathValidationError, ValidationError

    try:
        yield
    except (SigningError, TimestampRequestError, PathValidationError, ValidationError,
            OSError) as exc:
        raise Conflict("The signature could not be made long-term: the timestamp authority "
                       "or the certificate's revocation service did not give a usable answer "
                       f"({exc}).", code="signing_service_unavailable") from None
