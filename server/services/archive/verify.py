"""Checking an archive package years later, with nothing but the package.

Three things must hold: the bag is complete and every file matches its
sha256 manifest; the signed minutes pass ``minutes.verify.verify_pdf`` against
the roots the verifier trusts (never the CA certificate the package carries: a
forger would pack their own), by the certificates ``minutes.json`` names for
the chair and the secretary; and the audit chain in the package recomputes,
entry by entry, up to the head that the signed minutes state,
and matches the signed checkpoints of the chain's head that the package carries.
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
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from server.services.anchoring import packages as anchored
from server.services.audit import canonical_json, entry_hash
from server.services.minutes.trust import TrustError, pem_certificates
from server.services.minutes.verify import PdfCheck, verify_pdf
from server.services.voting import commitment


@dataclass
class PackageCheck:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    pdf: PdfCheck | None = None
    unreadable: bool = False  # not a package at all (the command exits 2)

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


def check_audit_segment(lines: list[str], stated_head: str | None,
                        own_object: tuple[str, str] | None = None) -> list[str]:
    """Recompute every entry's hash and link; the stated head must be one of them.

    Entries of other meetings (and of no meeting) are withheld: their actor and payload are
    not in the package, so only their place in the chain is checked. That binds them all the
    same: the next entry's hash covers their hash, up to the head the minutes state.
    ``own_object``: (object type, id) when the package is of one object (a consultation)
    rather than a meeting: then its entries, and only they, are the ones not withheld.
    """
    problems: list[str] = []
    previous = None
    hashes = set()
    entries = [json.loads(line) for line in lines]

    def own(entry) -> bool:
        return (entry.get("object_type"), entry.get("object_id")) == own_object

    own_meetings = {e["meeting_id"] for e in entries if not e.get("withheld")}
    if own_object is None and len(own_meetings) > 1:
        problems.append("the package's audit entries belong to more than one meeting")
    if own_object is not None and any(not e.get("withheld") and not own(e) for e in entries):
        problems.append("the package discloses audit entries of other objects")
    for entry in entries:
        if entry.get("withheld"):
            if (own(entry) if own_object is not None else entry["meeting_id"] in own_meetings):
                problems.append(f"audit entry {entry['seq']}: the meeting's own entry is withheld")
        else:
            fake = SimpleNamespace(**{**entry, "at": datetime.fromisoformat(entry["at"])})
            if entry_hash(fake) != entry["hash"]:
                problems.append(f"audit entry {entry['seq']}: content does not match its hash")
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


def _package_ca_note(path: Path, roots: list[x509.Certificate]) -> str | None:
    if not path.is_file():
        return None
    try:
        carried = pem_certificates(path.read_bytes())
    except TrustError:
        return "the CA certificate in the package is unreadable; it is not used"
    trusted = {root.fingerprint(hashes.SHA256()) for root in roots}
    if carried and all(c.fingerprint(hashes.SHA256()) in trusted for c in carried):
        return "the CA certificate in the package is one of the trusted roots"
    return ("the CA certificate in the package is not trusted here and proves nothing by "
            "itself; trust a copy obtained from the deployment (--trust)")


def _signer_problems(check: PdfCheck, stated: dict) -> list[str]:
    """The PDF's signatures must be, in order, those minutes.json lists."""
    listed = [(s.get("role"), s.get("certificate_sha256")) for s in stated.get("signatures", [])]
    found = [s.fingerprint for s in check.signatures]
    if [role for role, _ in listed] != ["chair", "secretary"]:
        return ["minutes.json does not list the chair's, then the secretary's signature"]
    if [fp for _, fp in listed] != found:
        return ["the signatures in the PDF are not by the certificates minutes.json lists "
                "for the chair and the secretary, in that order"]
    return []


def _pdf_problems(what: str, check: PdfCheck) -> list[str]:
    """A signed PDF's problems as package problems: the file's, then each signature's."""
    problems = [f"{what}: {check.error}"] if check.error else []
    problems += [f"signature {sig.field} ({sig.signer}): {problem}"
                 for sig in check.signatures for problem in sig.problems]
    return problems + [f"{what}: {problem}" for problem in check.problems]


def verify_package(path: Path, roots: list[x509.Certificate],
                   audit_key_pem: bytes | None = None) -> PackageCheck:
    """Check a package (.zip or bag directory), trusting ``roots`` only; ``audit_key_pem``
    (the audit public key its checkpoints are signed with) defaults to its own."""
    result = PackageCheck()
    path = Path(path)
    with tempfile.TemporaryDirectory(prefix="hemicycle-verify-") as tmp:
        try:
            bag_dir = _extract(path, Path(tmp)) if path.is_file() else path
            bag = bagit.Bag(str(bag_dir))
        except (ValueError, zipfile.BadZipFile, bagit.BagError, OSError) as exc:
            result.problems.append(f"not a readable package: {exc}")
            result.unreadable = True
            return result
        result.problems.extend(f"bag: {problem}" for problem in _bag_problems(bag))
        data = bag_dir / "data"
        if (data / "report").is_dir():
            _verify_consultation(data, roots, audit_key_pem, result)
            return result
        pdf_path = data / "minutes" / "minutes-signed.pdf"
        if not pdf_path.is_file():
            result.problems.append("the signed minutes are missing")
            return result
        note = _package_ca_note(data / "minutes" / "ca.pem", roots)
        if note:
            result.notes.append(note)
        result.pdf = verify_pdf(pdf_path.read_bytes(), roots)
        result.problems.extend(_pdf_problems("minutes", result.pdf))
        try:
            stated = json.loads((data / "minutes" / "minutes.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            stated = {}
            result.problems.append(f"minutes.json cannot be read: {exc}")
        if not result.pdf.error:
            result.problems.extend(f"minutes: {p}" for p in _signer_problems(result.pdf, stated))
        audit_path = data / "record" / "audit.jsonl"
        lines = audit_path.read_text(encoding="utf-8").splitlines() if audit_path.is_file() else []
        result.problems.extend(check_audit_segment(lines, result.pdf.audit_head))
        problems, notes = anchored.check_package(
            data / "record", [json.loads(line) for line in lines], result.pdf.audit_head,
            audit_key_pem)
        result.problems.extend(f"audit: {problem}" for problem in problems)
        result.notes.extend(notes)
        record = data / "record"
        if (record / "polls.json").is_file() and (record / "ballots.csv").is_file():
            result.problems.extend(commitment.check_package(
                (record / "polls.json").read_text(encoding="utf-8"),
                (record / "ballots.csv").read_text(encoding="utf-8"), lines))
        if stated.get("audit_head") != result.pdf.audit_head:
            result.problems.append("minutes.json and the signed PDF state different audit heads")
    return result


def _tally_problems(stated: dict) -> list[str]:
    """The answers the package lists must add up to the totals of the stated result."""
    result = stated.get("result") or {}
    weights = {m.get("user_id"): m.get("weight") for m in stated.get("members", [])}
    counted: dict[str, int] = {}
    problems = []
    for answer in stated.get("answers", []):
        if answer.get("user_id") not in weights:
            problems.append(f"an answer by user {answer.get('user_id')}, who was not asked")
        counted[answer.get("choice")] = counted.get(answer.get("choice"), 0) + 1
    totals = {k: v.get("count") for k, v in (result.get("totals") or {}).items()}
    if {k: v for k, v in totals.items() if v} != {k: v for k, v in counted.items() if v}:
        problems.append(f"the answers ({counted}) do not add up to the stated tally ({totals})")
    return problems


def _verify_consultation(data: Path, roots, audit_key_pem, result: PackageCheck) -> None:
    """A written consultation's package: the sealed report, the answers, the chain."""
    from server.pdf.signature_fields import REPORT_SIGNERS

    pdf_path = data / "report" / "report-signed.pdf"
    if not pdf_path.is_file():
        result.problems.append("the signed report is missing")
        return
    note = _package_ca_note(data / "report" / "ca.pem", roots)
    if note:
        result.notes.append(note)
    result.pdf = verify_pdf(pdf_path.read_bytes(), roots, expected=1, roles=REPORT_SIGNERS)
    result.problems.extend(_pdf_problems("report", result.pdf))
    try:
        stated = json.loads((data / "record" / "consultation.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        stated = {}
        result.problems.append(f"consultation.json cannot be read: {exc}")
    if stated.get("audit_head") != result.pdf.audit_head:
        result.problems.append("consultation.json and the signed report state different "
                               "audit heads")
    result.problems.extend(_tally_problems(stated))
    audit_path = data / "record" / "audit.jsonl"
    lines = audit_path.read_text(encoding="utf-8").splitlines() if audit_path.is_file() else []
    result.problems.extend(check_audit_segment(lines, result.pdf.audit_head,
                                               ("consultation", str(stated.get("id")))))
    problems, notes = anchored.check_package(
        data / "record", [json.loads(line) for line in lines], result.pdf.audit_head,
        audit_key_pem)
    result.problems.extend(f"audit: {problem}" for problem in problems)
    result.notes.extend(notes)
