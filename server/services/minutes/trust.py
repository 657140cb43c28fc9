"""Whom a signature on the minutes must lead back to: the deployment's trust.

The trusted roots are the deployment's own CA (``DATA_DIR/ca/ca.pem``) and the
PEM files it configures in ``HEMICYCLE_TRUST_ROOTS`` (e.g. the national root
CA), plus any a verifier names with ``--trust``. Nothing is trusted because a
file under examination carries it: a forger makes a CA as easily as a
certificate. A signing certificate must chain to one of the roots, be valid
at the moment it signs, and be meant for signing (key usage digital signature
or non-repudiation; an extended key usage, if present, naming document
signing or e-mail protection).
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from flask import current_app, has_app_context

from server.config import data_dir_from_env, trust_roots_from_env

_PEM_BLOCK = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.S)
SIGNING_KEY_USAGE = frozenset({"digital_signature", "non_repudiation"})
SIGNING_EXTENDED_KEY_USAGE = frozenset({
    "1.3.6.1.5.5.7.3.36",  # id-kp-documentSigning (RFC 9336)
    "email_protection", "microsoft_document_signing", "adobe_authentic_documents_trust",
})


class TrustError(ValueError):
    """A configured trust root cannot be read."""


@dataclass(frozen=True)
class CertificateProblem:
    code: str  # the API error code: certificate_untrusted, certificate_expired, ...
    message: str


def pem_certificates(data: bytes) -> list[x509.Certificate]:
    """Every certificate in a PEM text; TrustError when a block is not one."""
    try:
        return [x509.load_pem_x509_certificate(block) for block in _PEM_BLOCK.findall(data)]
    except ValueError as exc:
        raise TrustError(f"not a PEM certificate: {exc}") from None


def read_roots(paths) -> list[x509.Certificate]:
    """The certificates in each path: a PEM file, or a directory of .pem/.crt files."""
    roots: list[x509.Certificate] = []
    for name in paths:
        path = Path(name)
        files = (sorted(p for p in path.iterdir() if p.suffix.lower() in (".pem", ".crt"))
                 if path.is_dir() else [path])
        for file in files:
            try:
                found = pem_certificates(file.read_bytes())
            except OSError as exc:
                raise TrustError(f"trust root {file}: {exc.strerror or exc}") from None
            except TrustError as exc:
                raise TrustError(f"trust root {file}: {exc}") from None
            if not found:
                raise TrustError(f"trust root {file}: no PEM certificate in it")
            roots.extend(found)
    return roots


def _settings() -> tuple[Path, tuple[str, ...]]:
    try:
        from flask import current_app

        return Path(current_app.config["DATA_DIR"]), tuple(current_app.config.get("TRUST_ROOTS") or ())
    except RuntimeError:  # no application: a command run with the environment only
        return data_dir_from_env(), trust_roots_from_env()


def deployment_roots(extra=()) -> list[x509.Certificate]:
    """The deployment's own CA, its configured roots and ``extra`` paths, without duplicates."""
    data_dir, configured = _settings()
    own = data_dir / "ca" / "ca.pem"
    roots = read_roots(([own] if own.is_file() else []) + list(configured) + list(extra))
    return list({root.fingerprint(hashes.SHA256()): root for root in roots}.values())


def outside_event_loop(function):
    """Run pyHanko's synchronous API, which calls ``asyncio.run()`` inside, even where the
    calling thread already runs an event loop (an embedding application, Playwright's sync
    API in tests): then it runs in a short-lived thread of its own."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return function(*args, **kwargs)
        # The thread sees the caller's settings (the TSA, the trusted roots): the app
        # context is per thread, so it is pushed there again.
        app = current_app._get_current_object() if has_app_context() else None

        def run():
            if app is None:
                return function(*args, **kwargs)
            with app.app_context():
                return function(*args, **kwargs)

        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(run).result()

    return wrapper


def to_asn1(certificates: list[x509.Certificate]):
    from asn1crypto import x509 as asn1_x509

    return [asn1_x509.Certificate.load(c.public_bytes(Encoding.DER)) for c in certificates]


def key_usage_constraints():
    """For pyHanko: one of the signing key usages. (pyHanko rebuilds these constraints and
    would then demand an extended key usage; ``usage_problem`` checks that instead.)"""
    from pyhanko.sign.validation.settings import KeyUsageConstraints

    return KeyUsageConstraints(key_usage=set(SIGNING_KEY_USAGE), match_all_key_usages=False)


def usage_problem(cert) -> str | None:
    """Why an (asn1crypto) certificate is not meant for signing documents, or None."""
    usages = set(cert.key_usage_value.native) if cert.key_usage_value is not None else set()
    if cert.key_usage_value is not None and not usages & SIGNING_KEY_USAGE:
        return f"key usage {', '.join(sorted(usages))} does not include signing"
    if cert.extended_key_usage_value is not None:
        purposes = set(cert.extended_key_usage_value.native)
        if not purposes & (SIGNING_EXTENDED_KEY_USAGE | {"any_extended_key_usage"}):
            return f"extended key usage {', '.join(sorted(purposes))} is not document signing"
    return None


async def _validate_path(validator, context) -> None:
    try:
        await validator.async_validate_path()
    finally:
        await context.aclose()  # the fetchers' HTTP session


@outside_event_loop
def certificate_problem(certificate: x509.Certificate, chain: list[x509.Certificate],
                        roots: list[x509.Certificate],
                        at: datetime | None = None) -> CertificateProblem | None:
    """Why ``certificate`` may not sign minutes at ``at`` (default now), or None.

    Revocation is asked of the certificate's CA (its OCSP responder or CRL, from the URLs the
    certificate names) before anything is stored: a revoked certificate is refused; a CA
    that cannot be reached does not stop the signing here (soft-fail: the long-term
    signature's own revocation data is then fetched, and required, at signing)."""
    from pyhanko_certvalidator import CertificateValidator, ValidationContext
    from pyhanko_certvalidator.errors import (
        ExpiredError, InvalidCertificateError, NotYetValidError, PathBuildingError,
        PathValidationError, RevokedError)

    at = at or datetime.now(timezone.utc)
    if not roots:
        return CertificateProblem("certificate_untrusted",
                                  "No trust roots are configured (the deployment's CA or "
                                  "HEMICYCLE_TRUST_ROOTS).")
    cert, *intermediates = to_asn1([certificate, *chain])
    context = ValidationContext(trust_roots=to_asn1(roots), other_certs=intermediates,
                                moment=at, allow_fetching=True, revocation_mode="soft-fail")
    validator = CertificateValidator(cert, intermediate_certs=intermediates,
                                     validation_context=context)
    usage = usage_problem(cert)
    if usage is not None:
        return CertificateProblem("certificate_not_for_signing",
                                  f"The certificate is not meant for signing documents ({usage}).")
    try:
        asyncio.run(_validate_path(validator, context))
    except PathBuildingError:
        return CertificateProblem("certificate_untrusted", _untrusted(certificate))
    except ExpiredError:
        return CertificateProblem("certificate_expired",
                                  f"The certificate had expired on {at:%Y-%m-%d %H:%M} UTC.")
    except NotYetValidError:
        return CertificateProblem("certificate_not_yet_valid",
                                  f"The certificate was not yet valid on {at:%Y-%m-%d %H:%M} UTC.")
    except RevokedError:
        return CertificateProblem("certificate_revoked", "The certificate is revoked.")
    except InvalidCertificateError as exc:  # e.g. self-signed: anyone can make one
        return CertificateProblem("certificate_untrusted", f"{_untrusted(certificate)} ({exc})")
    except PathValidationError as exc:
        return CertificateProblem("certificate_untrusted", f"{_untrusted(certificate)} ({exc})")
    return None


def _untrusted(certificate: x509.Certificate) -> str:
    return (f"The certificate was issued by {certificate.issuer.rfc4514_string()}, "
            "which does not lead to a trusted root.")
