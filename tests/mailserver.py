"""A real SMTP server on localhost, in its own process, for the email tests (aiosmtpd).

``python -m tests.mailserver --listen 127.0.0.1:PORT --spool DIR [--login USER:PASSWORD]
[--refuse DOMAIN] [--tls CERT KEY [--smtps]]`` accepts mail as a mail relay would and writes each message exactly as
it arrived (``N.eml``) with its envelope (``N.json``); ``--login`` requires SMTP AUTH
(PLAIN/LOGIN, allowed without TLS on localhost); ``--refuse`` answers 550 to recipients
at that domain; ``--tls`` offers STARTTLS (and requires it before AUTH), ``--smtps``
speaks TLS from the first byte instead (port 465 style). :func:`mail_server` starts it for a test and reads what it received.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import email
import json
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from email import policy
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class Spool:
    """aiosmtpd handler: every message, byte for byte, and its envelope."""

    def __init__(self, directory: Path, refuse: str | None):
        self.directory = directory
        self.refuse = refuse

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse and address.lower().endswith("@" + self.refuse):
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        number = len(list(self.directory.glob("*.eml"))) + 1
        (self.directory / f"{number}.eml").write_bytes(envelope.original_content)
        (self.directory / f"{number}.json").write_text(json.dumps(
            {"from": envelope.mail_from, "to": envelope.rcpt_tos,
             "login": session.auth_data.login.decode() if session.auth_data else None}))
        return "250 Message accepted"


def _authenticator(login: str):
    from aiosmtpd.smtp import AuthResult

    user, _, password = login.partition(":")

    def check(server, session, envelope, mechanism, data):
        ok = data.login.decode() == user and data.password.decode() == password
        return AuthResult(success=ok, handled=False, auth_data=data)
    return check


async def serve(host: str, port: int, spool: Path, login: str | None, refuse: str | None,
                tls: list[str] | None = None, smtps: bool = False):
    import ssl

    from aiosmtpd.smtp import SMTP

    handler = Spool(spool, refuse)
    options = {"authenticator": _authenticator(login), "auth_required": True,
               # Under --smtps aiosmtpd does not count the transport's TLS, only STARTTLS.
               "auth_require_tls": bool(tls) and not smtps} if login else {}
    context = None
    if tls:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*tls)
        if not smtps:
            options.update(tls_context=context, require_starttls=True)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(handler, hostname="mail.test", **options),
                                      host, port, ssl=context if smtps else None)
    async with server:
        await server.serve_forever()


@dataclass
class Received:
    message: email.message.EmailMessage  # parsed with the modern policy: headers decoded
    raw: bytes
    envelope_to: list[str]
    login: str | None

    @property
    def text(self) -> str:
        return self.message.get_body(("plain",)).get_content()


class MailServer:
    def __init__(self, spool: Path, port: int, process: subprocess.Popen):
        self.spool, self.port, self.process, self.host = spool, port, process, "127.0.0.1"

    def received(self) -> list[Received]:
        found = []
        for path in sorted(self.spool.glob("*.eml"), key=lambda p: int(p.stem)):
            raw = path.read_bytes()
            envelope = json.loads(path.with_suffix(".json").read_text())
            found.append(Received(email.message_from_bytes(raw, policy=policy.default), raw,
                                  envelope["to"], envelope["login"]))
        return found

    def settings(self, **overrides) -> dict:
        """App settings that send through this server."""
        return {"SMTP_HOST": self.host, "SMTP_PORT": self.port, "SMTP_SECURITY": "none",
                "SMTP_FROM": "Văn phòng HĐND <vanphong@hdnd.test>", "SMTP_TIMEOUT": 5.0,
                **overrides}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def mail_server(directory: Path, *, login: str | None = None, refuse: str | None = None,
                tls: tuple[Path, Path] | None = None, smtps: bool = False):
    spool = Path(directory) / "spool"
    spool.mkdir(parents=True, exist_ok=True)
    port = free_port()
    command = [sys.executable, "-m", "tests.mailserver", "--listen", f"127.0.0.1:{port}",
               "--spool", str(spool)]
    command += ["--login", login] if login else []
    command += ["--refuse", refuse] if refuse else []
    command += ["--tls", str(tls[0]), str(tls[1])] if tls else []
    command += ["--smtps"] if smtps else []
    log = open(Path(directory) / "mailserver.log", "wb")
    process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while True:
            if process.poll() is not None:
                raise RuntimeError("the SMTP server exited: "
                                   + (Path(directory) / "mailserver.log").read_text())
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            if time.monotonic() > deadline:
                raise RuntimeError("the SMTP server did not start listening")
            time.sleep(0.1)
        yield MailServer(spool, port, process)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", required=True, help="HOST:PORT")
    parser.add_argument("--spool", required=True, type=Path)
    parser.add_argument("--login", help="USER:PASSWORD required by AUTH")
    parser.add_argument("--refuse", help="a recipient domain answered 550")
    parser.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"), help="offer STARTTLS")
    parser.add_argument("--smtps", action="store_true", help="TLS from the start (with --tls)")
    options = parser.parse_args()
    host, _, port = options.listen.rpartition(":")
    asyncio.run(serve(host, int(port), options.spool, options.login, options.refuse,
                      options.tls, options.smtps))


if __name__ == "__main__":
    main()


def certificate(directory: Path, host: str = "127.0.0.1") -> tuple[Path, Path, Path]:
    """A self-signed certificate for ``host`` (an IP address): (cert, key, the CA file)."""
    import ipaddress
    from datetime import datetime, timedelta, timezone

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mail.test")])
    now = datetime.now(timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(hours=1)).not_valid_after(now + timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(
                ipaddress.ip_address(host))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    directory.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path, cert_path
