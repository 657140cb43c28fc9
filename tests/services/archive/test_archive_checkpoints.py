"""Archive packages carry the signed checkpoints of their stretch of the audit chain, and
`archive verify` checks the package's record against them."""
from __future__ import annotations

import base64
import json
import zipfile
from datetime import datetime
from types import SimpleNamespace

import bagit
import pytest
from click.testing import CliRunner

from server.cli.commands import cli
from server.services import audit
from server.services.anchoring import checkpoints, keys
from server.services.archive.demo_record import seed_sealed_meeting
from server.services.archive.package import export_package
from server.services.archive.verify import verify_package
from server.services.minutes import trust


@pytest.fixture
def bag_dir(app, tmp_path):
    meeting = seed_sealed_meeting()
    package = export_package(meeting.id, tmp_path / "p.zip")
    with zipfile.ZipFile(package) as archive:
        archive.extractall(tmp_path / "unpacked")
    return next((tmp_path / "unpacked").iterdir())


def _records(bag_dir):
    return bag_dir / "data" / "record"


def _rewrite_lines(path, change) -> None:
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    lines = change(lines)
    path.write_text("".join(audit.canonical_json(line) + "\n" for line in lines),
                    encoding="utf-8")
    bagit.Bag(str(path.parents[2])).save(manifests=True)  # the forger refreshes the manifests


def test_the_package_carries_the_seal_checkpoint_and_the_audit_key(bag_dir):
    [line] = (_records(bag_dir) / "checkpoints.jsonl").read_text().splitlines()
    checkpoint = json.loads(line)
    last = json.loads((_records(bag_dir) / "audit.jsonl").read_text().splitlines()[-1])
    assert last["action"] == "meeting.sealed"
    assert (checkpoint["seq"], checkpoint["hash"]) == (last["seq"], last["hash"])
    assert (_records(bag_dir) / "audit-key.pem").read_bytes() == keys.signer().public_pem()
    result = verify_package(bag_dir, trust.deployment_roots())
    assert result.ok, result.problems
    assert "audit checkpoints: 1 in the package, the chain matches" in result.notes


def test_a_rechained_tail_in_the_package_fails_on_its_checkpoint(bag_dir):
    def rechain(lines):
        lines[-1]["object_id"] = "999"  # the seal entry, after the head the minutes state
        lines[-1]["hash"] = audit.entry_hash(SimpleNamespace(
            **{**lines[-1], "at": datetime.fromisoformat(lines[-1]["at"])}))
        return lines

    _rewrite_lines(_records(bag_dir) / "audit.jsonl", rechain)
    result = verify_package(bag_dir, trust.deployment_roots())
    assert not result.ok
    [problem] = result.problems
    assert problem.startswith("audit: checkpoint 1 (seq ")
    assert "no longer has the checkpointed hash" in problem


def test_a_cut_tail_in_the_package_fails_on_its_checkpoint(bag_dir):
    _rewrite_lines(_records(bag_dir) / "audit.jsonl", lambda lines: lines[:-1])
    result = verify_package(bag_dir, trust.deployment_roots())
    assert [p for p in result.problems if "cut from the end" in p]


def test_checkpoints_re_signed_with_a_forgers_key_fail_against_the_deployments_key(bag_dir,
                                                                                 tmp_path):
    forger = keys.FileSigner(tmp_path / "forger" / "audit.key")

    def resign(lines):
        for line in lines:
            line["key"] = forger.key_id()
            line["sig"] = base64.b64encode(
                forger.sign(checkpoints.signed_bytes(line))).decode()
        return lines

    (_records(bag_dir) / "audit-key.pem").write_bytes(forger.public_pem())
    _rewrite_lines(_records(bag_dir) / "checkpoints.jsonl", resign)
    # Against the key inside the package, only consistency is proven ...
    assert verify_package(bag_dir, trust.deployment_roots()).ok
    # ... the deployment's key, kept elsewhere, tells the forger apart.
    runner = CliRunner()
    key_file = tmp_path / "deployment-audit-key.pem"
    key_file.write_bytes(keys.signer().public_pem())
    result = runner.invoke(cli, ["archive", "verify", str(bag_dir), "--audit-key", str(key_file)])
    assert result.exit_code == 1
    assert "FAIL: audit: checkpoint 1 (seq " in result.output
    assert "signed by another key" in result.output


def test_a_meeting_sealed_before_checkpoints_existed_exports_and_verifies_with_a_note(app,
                                                                                    tmp_path):
    meeting = seed_sealed_meeting()
    checkpoints.checkpoint_path().unlink()  # as on a server upgraded after the seal
    package = export_package(meeting.id, tmp_path / "old.zip")
    with zipfile.ZipFile(package) as archive:
        assert not [n for n in archive.namelist() if n.endswith("checkpoints.jsonl")]
    result = verify_package(package, trust.deployment_roots())
    assert result.ok, result.problems
    assert any("holds no audit checkpoints" in note for note in result.notes)
