"""scripts/bundle on this (connected) machine, then scripts/setup --offline into a fresh
virtualenv with no registry: pip runs with --no-index and no pip configuration, so every
package must come from the bundle; the installed command then runs."""
from __future__ import annotations

import os
import subprocess
import tarfile

from tests.live import ROOT


def test_bundle_installs_with_no_registry(tmp_path):
    bundle = tmp_path / "hemicycle-bundle.tar.gz"
    built = subprocess.run([str(ROOT / "scripts" / "bundle"), str(bundle)], cwd=ROOT,
                           capture_output=True, text=True, timeout=1200)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    with tarfile.open(bundle) as tar:
        names = set(tar.getnames())
    assert {"hemicycle-bundle/SHA256SUMS", "hemicycle-bundle/debian-packages.txt",
            "hemicycle-bundle/node_modules.tar.gz"} <= names
    assert any(n.startswith("hemicycle-bundle/wheels/pyrage-") for n in names)

    venv = tmp_path / "venv"
    env = {**os.environ, "VENV": str(venv), "NODE_PREFIX": str(tmp_path),
           # Were anything fetched, it would have to be from here, and nothing listens here.
           "PIP_INDEX_URL": "http://127.0.0.1:9/simple"}
    installed = subprocess.run([str(ROOT / "scripts" / "setup"), "--offline", str(bundle)],
                               cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200)
    assert installed.returncode == 0, installed.stdout[-3000:] + installed.stderr[-3000:]
    assert "with no registry" in installed.stdout
    assert (tmp_path / "node_modules" / "socket.io-client" / "package.json").is_file()
    answer = subprocess.run([str(venv / "bin" / "hemicycle"), "backup", "--help"],
                            capture_output=True, text=True, timeout=120,
                            env={**os.environ, "HEMICYCLE_DATA_DIR": str(tmp_path / "data")})
    assert answer.returncode == 0 and "verify" in answer.stdout, answer.stderr
    imported = subprocess.run([str(venv / "bin" / "python"), "-c",
                               "import pymupdf, pyhanko, pyrage, prometheus_client, eventlet"],
                              capture_output=True, text=True, timeout=120)
    assert imported.returncode == 0, imported.stderr

    damaged = tmp_path / "damaged.tar.gz"
    with tarfile.open(bundle) as source, tarfile.open(damaged, "w:gz") as target:
        for member in source:
            data = source.extractfile(member).read() if member.isfile() else None
            if member.name.endswith("debian-packages.txt"):
                data += b"evil-package\n"
                member.size = len(data)
            target.addfile(member, __import__("io").BytesIO(data) if data is not None else None)
    refused = subprocess.run([str(ROOT / "scripts" / "setup"), "--offline", str(damaged)],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert refused.returncode == 1 and "damaged" in refused.stderr
