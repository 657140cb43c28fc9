"""hemicycle-sign: sign the minutes on your own PKCS#11 token (a USB token, a smart card).

    hemicycle-sign --module /usr/lib/x86_64-linux-gnu/opensc-pkcs11.so --list
    hemicycle-sign --module MODULE https://hemicycle.example/api/v1/signing-sessions/CODE

The minutes page shows the link (with its one-time code). The agent fetches the session,
sends the token's certificate, signs the attributes the server answers on the token (the
key never leaves it) and returns the signature value. The PIN is asked for (or read from
``--pin-file`` or ``HEMICYCLE_SIGN_PIN``, for scripts and tests). Plain HTTP is refused
except to this computer (``localhost``), so the code is not sent in the clear.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import getpass
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding


class AgentError(Exception):
    pass


def _parse(argv):
    parser = argparse.ArgumentParser(prog="hemicycle-sign", description=__doc__.split("\n")[0])
    parser.add_argument("link", nargs="?", help="the session link from the minutes page, "
                        "or its code with --server")
    parser.add_argument("--module", default=os.environ.get("HEMICYCLE_SIGN_MODULE"),
                        required=not os.environ.get("HEMICYCLE_SIGN_MODULE"),
                        help="the token's PKCS#11 module (.so / .dll)")
    parser.add_argument("--token", help="token label (default: the first token)")
    parser.add_argument("--cert", help="label of the certificate and key to sign with")
    parser.add_argument("--pin-file", help="read the PIN from this file (else it is asked)")
    parser.add_argument("--server", help="the server's address, when LINK is only the code")
    parser.add_argument("--list", action="store_true", help="list the token's certificates")
    return parser.parse_args(argv)


def _pin(args) -> str:
    if args.pin_file:
        with open(args.pin_file, encoding="utf-8") as handle:
            return handle.read().strip()
    return os.environ.get("HEMICYCLE_SIGN_PIN") or getpass.getpass("Token PIN: ")


def open_token(args):
    import pkcs11

    try:
        lib = pkcs11.lib(args.module)
        tokens = list(lib.get_tokens(token_label=args.token)) if args.token else \
            [slot.get_token() for slot in lib.get_slots(token_present=True)]
        if not tokens:
            raise AgentError(f"no token{' labelled ' + args.token if args.token else ''}")
        return tokens[0].open(user_pin=_pin(args))
    except pkcs11.PKCS11Error as exc:
        raise AgentError(f"the token cannot be opened: {type(exc).__name__} {exc}") from None


def certificates(session) -> list[tuple[str, x509.Certificate]]:
    """(label, certificate) of every X.509 certificate on the token."""
    from pkcs11 import Attribute, CertificateType, ObjectClass

    found = []
    for obj in session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE,
                                    Attribute.CERTIFICATE_TYPE: CertificateType.X_509}):
        found.append((obj[Attribute.LABEL], x509.load_der_x509_certificate(obj[Attribute.VALUE])))
    return found


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def _choose(found, label: str | None) -> tuple[str, x509.Certificate]:
    signing = [(lab, c) for lab, c in found if not _is_ca(c) and (label is None or lab == label)]
    if len(signing) != 1:
        names = ", ".join(lab for lab, c in found if not _is_ca(c)) or "none"
        raise AgentError(f"choose the certificate with --cert (on the token: {names})")
    return signing[0]


def _request(url: str, body: dict | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method="POST" if data else "GET",
                                     headers={"Content-Type": "application/json",
                                              "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.load(response)
    except urllib.error.HTTPError as exc:
        try:
            error = json.load(exc)["error"]
            raise AgentError(f"the server refused ({error['code']}): {error['message']}") from None
        except (ValueError, KeyError, TypeError):
            raise AgentError(f"the server answered {exc.code}") from None
    except urllib.error.URLError as exc:
        raise AgentError(f"the server cannot be reached: {exc.reason}") from None


def session_url(args) -> str:
    link = args.link
    if not link.startswith(("http://", "https://")):
        if not args.server:
            raise AgentError("give the whole link, or the code with --server")
        link = args.server.rstrip("/") + "/api/v1/signing-sessions/" + link
    parts = urllib.parse.urlsplit(link)
    if parts.scheme != "https" and parts.hostname not in ("localhost", "127.0.0.1", "::1"):
        raise AgentError("the link must be https (the one-time code is a secret)")
    return link.rstrip("/")


def sign(args) -> str:
    from pyhanko.sign.pkcs11 import PKCS11Signer

    url = session_url(args)
    described = _request(url)
    print(f"{described['meeting_title']}: {described['role']} {described['signer']}")
    session = open_token(args)
    try:
        found = certificates(session)
        label, cert = _choose(found, args.cert)
        chain = [c for _lab, c in found if _is_ca(c)]
        pem = "".join(c.public_bytes(Encoding.PEM).decode() for c in [cert, *chain])
        prepared = _request(url + "/certificate", {"certificate_chain": pem})
        attributes = base64.b64decode(prepared["signed_attributes"])
        signer = PKCS11Signer(session, cert_label=label, key_label=label)
        value = asyncio.run(signer.async_sign_raw(attributes, prepared["digest_algorithm"]))
    finally:
        session.close()
    done = _request(url + "/signature", {"signature_value": base64.b64encode(value).decode()})
    return done["state"]


def main(argv=None) -> int:
    args = _parse(argv)
    try:
        if args.list:
            session = open_token(args)
            try:
                for label, cert in certificates(session):
                    kind = "CA" if _is_ca(cert) else "signing"
                    print(f"{label}\t{kind}\t{cert.subject.rfc4514_string()}\t"
                          f"until {cert.not_valid_after_utc:%Y-%m-%d}")
            finally:
                session.close()
            return 0
        if not args.link:
            raise AgentError("give the session link from the minutes page")
        state = sign(args)
    except AgentError as exc:
        print(f"hemicycle-sign: {exc}", file=sys.stderr)
        return 1
    print(f"Signed ({state}).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
