"""A SoftHSM2 token for the signing tests: a real PKCS#11 module, keys imported into it.

``SoftToken(dir).init()`` makes a token in a directory of its own (SOFTHSM2_CONF points
there, so no system token is touched); ``put`` imports a private key and its certificate
under one label, ``put_certificate`` a CA certificate.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from tests.conftest import service_unavailable

MODULES = ("/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so")
PIN = "246810"


def module_path() -> str:
    found = next((m for m in MODULES if os.path.exists(m)), None)
    if found is None or shutil.which("softhsm2-util") is None or shutil.which("pkcs11-tool") is None:
        service_unavailable("SoftHSM2", "apt install softhsm2 opensc (scripts/setup --dev does)")
    return found


class SoftToken:
    def __init__(self, directory: Path, label: str = "hemicycle-test"):
        self.directory = Path(directory)
        self.label = label
        self.module = module_path()
        self.conf = self.directory / "softhsm2.conf"
        self.pin_file = self.directory / "pin"

    @property
    def env(self) -> dict:
        return {**os.environ, "SOFTHSM2_CONF": str(self.conf)}

    def _run(self, *args: str) -> None:
        run = subprocess.run(args, env=self.env, capture_output=True, text=True, timeout=60)
        assert run.returncode == 0, f"{' '.join(args)}:\n{run.stdout}\n{run.stderr}"

    def init(self) -> "SoftToken":
        (self.directory / "tokens").mkdir(parents=True, exist_ok=True)
        self.conf.write_text(f"directories.tokendir = {self.directory / 'tokens'}\n"
                             "objectstore.backend = file\nlog.level = ERROR\n")
        self.pin_file.write_text(PIN + "\n")
        self._run("softhsm2-util", "--init-token", "--free", "--label", self.label,
                  "--pin", PIN, "--so-pin", "13579")
        return self

    def put(self, label: str, key_id: str, issued) -> None:
        """The key and certificate of ``issued`` (tests.pki.Issued) under ``label``."""
        key = self.directory / f"{label}.key.pem"
        key.write_bytes(issued.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
        self._run("softhsm2-util", "--import", str(key), "--token", self.label, "--label", label,
                  "--id", key_id, "--pin", PIN)
        key.unlink()
        self.put_certificate(label, key_id, issued.cert)

    def put_certificate(self, label: str, key_id: str, cert) -> None:
        der = self.directory / f"{label}.der"
        der.write_bytes(cert.public_bytes(serialization.Encoding.DER))
        self._run("pkcs11-tool", "--module", self.module, "--token-label", self.label,
                  "--login", "--pin", PIN, "--write-object", str(der), "--type", "cert",
                  "--label", label, "--id", key_id)
