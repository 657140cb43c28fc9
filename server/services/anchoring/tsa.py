"""RFC 3161 timestamps of checkpoints, from the TSA named by ``HEMICYCLE_AUDIT_TSA_URL``.

The request is pyHanko's (``TimeStamper.request_cms``, with a nonce) posted with
``requests``; the answer is checked by pyHanko (status, nonce). A token is kept as
base64 DER in the checkpoint line. Checking a token later (``check_token``) needs no
network: the message imprint must be the checkpoint's, the TSA's signature must hold,
and, given the TSA's root certificate(s), its certificate must chain to one.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import base64
import hashlib
from dataclasses import dataclass

TIMEOUT_SECONDS = 10


class TimestampError(Exception):
    """The TSA could not be reached or answered no usable token."""


def request_token(url: str, data: bytes) -> str:
    """A timestamp token over sha256(data), as base64 DER."""
    import requests
    from asn1crypto import tsp
    from pyhanko.sign.timestamps.api import TimeStamper
    from pyhanko.sign.timestamps.common_utils import (
        TimestampRequestError, handle_tsp_response, set_tsp_headers,
    )

    nonce, request = TimeStamper().request_cms(hashlib.sha256(data).digest(), "sha256")
    try:
        answer = requests.post(url, data=request.dump(), headers=set_tsp_headers({}),
                               timeout=TIMEOUT_SECONDS)
        answer.raise_for_status()
        token = handle_tsp_response(tsp.TimeStampResp.load(answer.content), nonce)
        _ = token.native  # parse it all now: a malformed answer fails here, not at verify time
    except (OSError, requests.RequestException, TimestampRequestError, ValueError) as exc:
        raise TimestampError(f"timestamp from {url} failed: {exc}") from None
    return base64.b64encode(token.dump()).decode()  # the TSA's own bytes, as signed


def _roots(pems: list[bytes]):
    from asn1crypto import x509 as asn1_x509
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    roots = []
    for pem in pems:
        for cert in x509.load_pem_x509_certificates(pem):
            roots.append(asn1_x509.Certificate.load(cert.public_bytes(Encoding.DER)))
    return roots


@dataclass
class TokenCheck:
    ok: bool  # the imprint matches and the TSA's signature is intact and valid
    trusted: bool | None  # None when no TSA root was given to check against
    at: str | None
    tsa: str
    problem: str = ""


def _run(coroutine):
    """``asyncio.run(coroutine())``, in a thread of its own where this thread already runs an
    event loop (an embedding application; Playwright's sync API in the test process)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine())
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(coroutine())).result()


def check_token(token_b64: str, data: bytes,
                tsa_roots_pem: list[bytes] | None = None) -> TokenCheck:
    """Check a token over sha256(data); ``tsa_roots_pem`` are the TSA roots to trust."""
    from asn1crypto import cms
    from pyhanko.sign.validation.generic_cms import validate_tst_signed_data
    from pyhanko_certvalidator import ValidationContext

    digest = hashlib.sha256(data).digest()
    try:
        token = cms.ContentInfo.load(base64.b64decode(token_b64, validate=True))
        signed_data = token["content"]
        info = signed_data["encap_content_info"]["content"].parsed
        imprint = info["message_imprint"]["hashed_message"].native
        at = info["gen_time"].native.isoformat()
    except (ValueError, TypeError, KeyError) as exc:
        return TokenCheck(False, None, None, "", f"unreadable timestamp token: {exc}")
    if imprint != digest:
        return TokenCheck(False, None, at, "", "the timestamp is of other data")
    roots = _roots(tsa_roots_pem or [])
    context = ValidationContext(trust_roots=roots, allow_fetching=False)
    try:
        status = _run(lambda: validate_tst_signed_data(signed_data, context, lambda _alg: digest))
    except Exception as exc:  # pyHanko raises several kinds on a broken token
        return TokenCheck(False, None, at, "", f"the timestamp cannot be validated: {exc}")
    cert = status.get("signing_cert")
    tsa = cert.subject.human_friendly if cert is not None else ""
    ok = bool(status.get("intact")) and bool(status.get("valid"))
    trusted = bool(status.get("trust_problem_indic") is None) if tsa_roots_pem else None
    problem = "" if ok else "the TSA's signature on the timestamp does not hold"
    return TokenCheck(ok, trusted, at, tsa, problem)
