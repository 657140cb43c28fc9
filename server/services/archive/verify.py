"""Checking an archive package years later, with nothing but the package.

Three things must hold: the bag is complete and every file matches its
sha256 manifest; both signatures on the minutes are intact and valid and
nothing but form filling followed them; and the audit chain in the package
recomputes, entry by entry, up to the head that the signed minutes state.
Then every closed poll's ballots (``ballots.csv``) and published list must
match the ballot digest its ``poll.close`` entry committed to.
"""
from __future__ import annotations

import hashlib
import json
import tempfile
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

import bagit

from server.services.audit import canonical_json, entry_hash
from server.services.minutes.signing import PdfCheck, verify_pdf
from server.services.voting import commitment


@dataclass
class PackageCheck:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    pdf: PdfCheck | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


def _extract(path: Path, into: Path) -> Path:
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            target = (into / name).resolve()
            if not target.is_relative_to(into.resolve()):
                raise ValueError(f"unsafe path in the package: {name}")
        archive.extractall(into)
    tops = [p for p in into.iterdir() if p.is_dir()]
    if len(tops) != 1:
        raise ValueError("the package must hold exactly one bag directory")
    return tops[0]


def _bag_problems(bag: bagit.Bag) -> list[str]:
    try:
        bag.validate()
        return []
    except bagit.BagValidationError as exc:
        problems = [str(d) for d in getattr(exc, "details", [])] or [str(exc)]
    if "Payload-Oxum" in problems[0]:
        # The quick size check stops before naming the files: name them.
        try:
            bag._validate_completeness()
            bag._validate_entries(1)
        except bagit.BagValidationError as exc:
            problems += [str(d) for d in getattr(exc, "details", [])] or [str(exc)]
    return problems


def check_audit_segment(lines: list[str], stated_head: str | None) -> list[str]:
    """Recompute every entry's hash and link; the stated head must be one of them."""
    problems: list[str] = []
    previous = None
    hashes = set()
    for number, line in enumerate(lines, start=1):
        entry = json.loads(line)
        fake = SimpleNamespace(**{**entry, "at": datetime.fromisoformat(entry["at"])})
        if entry_hash(fake) != entry["hash"]:
            problems.append(f"audit entry {entry['seq']}: content does not match its hash")
        if not entry.get("withheld"):
            digest = hashlib.sha256(canonical_json(entry["payload"] or {}).encode()).hexdigest()
            if digest != entry["payload_sha256"]:
                problems.append(f"audit entry {entry['seq']}: payload was changed")
        if previous is not None and (entry["prev_hash"] != previous["hash"]
                                     or entry["seq"] != previous["seq"] + 1):
            problems.append(f"audit entry {entry['seq']}: does not follow entry {previous['seq']}")
        previous = entry
        hashes.add(entry["hash"])
    if not lines:
        problems.append("the package holds no audit entries")
    elif stated_head not in hashes:
        problems.append("the audit head stated in the minutes is not in the package's chain")
    return problems


def verify_package(path: Path, trust_pems: list[bytes] | None = None) -> PackageCheck:
    """Check a package (.zip or bag directory); ``trust_pems`` default to its own CA."""
    result = PackageCheck()
    path = Path(path)
    with tempfile.TemporaryDirectory(prefix="hemicycle-verify-") as tmp:
        try:
            bag_dir = _extract(path, Path(tmp)) if path.is_file() else path
            bag = bagit.Bag(str(bag_dir))
        except (ValueError, zipfile.BadZipFile, bagit.BagError, OSError) as exc:
            result.problems.append(f"not a readable package: {exc}")
            return result
        result.problems.extend(f"bag: {problem}" for problem in _bag_problems(bag))
        data = bag_dir / "data"
        pdf_path = data / "minutes" / "minutes-signed.pdf"
        if not pdf_path.is_file():
            result.problems.append("the signed minutes are missing")
            return result
        if trust_pems is None and (data / "minutes" / "ca.pem").is_file():
            trust_pems = [(data / "minutes" / "ca.pem").read_bytes()]
            result.notes.append("trust: the CA certificate inside the package")
        result.pdf = verify_pdf(pdf_path.read_bytes(), trust_pems)
        if result.pdf.error:
            result.problems.append(f"minutes: {result.pdf.error}")
        for sig in result.pdf.signatures:
            if not sig.ok:
                result.problems.append(
                    f"signature {sig.field} ({sig.signer}): intact={sig.intact} "
                    f"valid={sig.valid} changed after={sig.modifications}")
        if not result.pdf.ok and all(s.ok for s in result.pdf.signatures):
            result.problems.append("the minutes do not carry both signatures over the whole file")
        audit_path = data / "record" / "audit.jsonl"
        lines = audit_path.read_text(encoding="utf-8").splitlines() if audit_path.is_file() else []
        result.problems.extend(check_audit_segment(lines, result.pdf.audit_head))
        record = data / "record"
        if (record / "polls.json").is_file() and (record / "ballots.csv").is_file():
            result.problems.extend(commitment.check_package(
                (record / "polls.json").read_text(encoding="utf-8"),
                (record / "ballots.csv").read_text(encoding="utf-8"), lines))
        stated = json.loads((data / "minutes" / "minutes.json").read_text(encoding="utf-8"))
        if stated.get("audit_head") != result.pdf.audit_head:
            result.problems.append("minutes.json and the signed PDF state different audit heads")
    return result
