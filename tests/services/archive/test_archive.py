"""Archive: the sealed meeting's BagIt package, its verification, and full-text search."""
from __future__ import annotations

import csv
import json
import zipfile
from pathlib import Path
from datetime import date, timedelta

import bagit
import pytest
import sqlalchemy
from cryptography.hazmat.primitives import hashes

from server.errors import Conflict, Forbidden, InvalidInput, NotAuthenticated
from server.extensions import db
from server.models import MeetingStatus, MinutesStatus, Role
from server.services import audit
from server.services.minutes import ca, minutes as minutes_service, trust
from server.services.actors import Actor
from server.services.archive.package import export_package
from server.services.archive.demo_record import seed_sealed_meeting
from server.services.archive.search import _snippet, fold, index_meeting, search
from server.services.archive.verify import verify_package
from tests import factories, forgery, pki


def ROOTS():
    """The deployment's trust: its own CA (and TRUST_ROOTS, none here)."""
    return trust.deployment_roots()


@pytest.fixture
def sealed(app):
    return seed_sealed_meeting()


@pytest.fixture
def archivist(app):
    return Actor.of_user(factories.make_user(Role.SECRETARY))


def _rewrite(package, tmp_path, name_part: str, change) -> Path:
    """Change one file of a zipped bag; returns the unpacked bag directory."""
    with zipfile.ZipFile(package) as archive:
        archive.extractall(tmp_path / "unpacked")
    bag_dir = next((tmp_path / "unpacked").iterdir())
    target = next(p for p in bag_dir.rglob("*") if name_part in p.name)
    target.write_bytes(change(target.read_bytes()))
    return bag_dir


def test_seeded_meeting_is_sealed_and_signed(sealed):
    minutes = minutes_service.minutes_of(sealed)
    assert sealed.status == MeetingStatus.SEALED
    assert minutes.status == MinutesStatus.SIGNED and len(minutes.signatures) == 2
    assert audit.verify().ok


def test_export_is_a_valid_bag_with_the_whole_record(sealed, tmp_path):
    package = export_package(sealed.id, tmp_path / "package.zip")
    with zipfile.ZipFile(package) as archive:
        archive.extractall(tmp_path / "bag")
        names = archive.namelist()
    bag = bagit.Bag(str(tmp_path / "bag" / f"hemicycle-meeting-{sealed.id}"))
    bag.validate()  # raises when a file is missing or does not match its sha256
    assert "sha256" in bag.algorithms
    assert bag.info["Source-Organization"] == "Hội đồng nhân dân tỉnh Lâm Đồng"
    assert bag.info["External-Identifier"].startswith(f"hemicycle:meeting:{sealed.id}")
    assert bag.info["Bagging-Date"] == date.today().isoformat()
    prefix = f"hemicycle-meeting-{sealed.id}/data/"
    for name in ("minutes/minutes-signed.pdf", "minutes/ca.pem", "record/attendance.csv",
                 "record/speeches.csv", "record/polls.json", "record/ballots.csv",
                 "record/audit.jsonl", "documents/index.json"):
        assert prefix + name in names
    data = tmp_path / "bag" / prefix
    documents = json.loads((data / "documents" / "index.json").read_text())
    assert documents[0]["title"] == "Báo cáo tình hình kinh tế - xã hội năm 2026"
    with open(data / "record" / "ballots.csv", encoding="utf-8") as handle:
        ballots = list(csv.DictReader(handle))
    secret = [b for b in ballots if b["kind"] == "secret"]
    named = [b for b in ballots if b["kind"] == "named"]
    assert len(secret) == 4 and all(b["voter"] == "" and b["cast_at"] == "" for b in secret)
    assert all(b["receipt"] for b in secret)
    assert len(named) == 4 and all(b["voter"] for b in named)
    audit_lines = (data / "record" / "audit.jsonl").read_text().splitlines()
    own = [json.loads(line) for line in audit_lines if not json.loads(line)["withheld"]]
    assert {"minutes.finalised", "minutes.signed", "meeting.sealed"} <= {e["action"] for e in own}


def test_verify_accepts_the_package(sealed, tmp_path):
    result = verify_package(export_package(sealed.id, tmp_path / "p.zip"), ROOTS())
    assert result.ok, result.problems
    assert result.pdf.audit_head == minutes_service.minutes_of(sealed).audit_head
    assert [s.trusted for s in result.pdf.signatures] == [True, True]


def test_a_package_with_forged_minutes_and_its_own_ca_fails(sealed, tmp_path):
    """The forger replaces the minutes, signs them in the right names under a CA of their
    own, packs that CA as ca.pem, rewrites minutes.json's certificates, and re-bags."""
    package = export_package(sealed.id, tmp_path / "p.zip")
    forger = pki.make_root("Hemicycle CA - Hội đồng nhân dân tỉnh Lâm Đồng")
    chair, secretary = pki.issue(forger, "Trần Đức Lương"), pki.issue(forger, "Lê Thị Thu Hà")
    forged = forgery.forge(minutes_service.minutes_of(sealed), chair, secretary)
    bag_dir = _rewrite(package, tmp_path, "minutes-signed.pdf", lambda _old: forged)
    (bag_dir / "data" / "minutes" / "ca.pem").write_bytes(forger.pem)
    stated_path = bag_dir / "data" / "minutes" / "minutes.json"
    stated = json.loads(stated_path.read_text())
    for entry, who in zip(stated["signatures"], (chair, secretary)):
        entry["certificate_sha256"] = who.cert.fingerprint(hashes.SHA256()).hex()
    stated_path.write_text(json.dumps(stated, ensure_ascii=False))
    _rebag(bag_dir)
    result = verify_package(bag_dir, ROOTS())
    assert not result.ok
    assert [p for p in result.problems if p.startswith("signature")] == [
        "signature sig_chair (Trần Đức Lương): not trusted: its certificate does not lead to a "
        "trusted root",
        "signature sig_secretary (Lê Thị Thu Hà): not trusted: its certificate does not lead to "
        "a trusted root"]
    assert "not trusted here" in result.notes[0]
    # Trusting the package's own CA would have passed it: that is what must not happen.
    assert verify_package(bag_dir, [forger.cert]).ok


def test_a_package_verified_elsewhere_needs_the_ca_given(sealed, tmp_path):
    package = export_package(sealed.id, tmp_path / "p.zip")
    result = verify_package(package, [])
    assert not result.ok  # nothing trusted, nothing passes, whatever ca.pem it carries
    assert "not trusted here" in result.notes[0]
    result = verify_package(package, [ca.ca_certificate()])
    assert result.ok, result.problems
    assert result.notes[0] == "the CA certificate in the package is one of the trusted roots"
    assert [n for n in result.notes[1:] if not n.startswith("audit ")] == []  # checkpoint notes


def test_a_changed_document_fails_bag_validation(sealed, tmp_path):
    package = export_package(sealed.id, tmp_path / "p.zip")
    bag_dir = _rewrite(package, tmp_path, "-v1-", lambda b: b.replace(b"%PDF", b"%PDX", 1))
    with pytest.raises(bagit.BagValidationError):
        bagit.Bag(str(bag_dir)).validate()
    result = verify_package(bag_dir, ROOTS())
    assert not result.ok and any(p.startswith("bag:") for p in result.problems)


def _rebag(bag_dir):
    """What a forger would do: recompute every manifest after the change."""
    bag = bagit.Bag(str(bag_dir))
    bag.save(manifests=True)


def test_a_forged_audit_entry_is_caught_even_with_fresh_manifests(sealed, tmp_path):
    package = export_package(sealed.id, tmp_path / "p.zip")

    def forge(data: bytes) -> bytes:
        lines = data.decode().splitlines()
        entry = json.loads(lines[0])
        entry["object_id"] = "999"
        lines[0] = json.dumps(entry, ensure_ascii=False)
        return ("\n".join(lines) + "\n").encode()

    bag_dir = _rewrite(package, tmp_path, "audit.jsonl", forge)
    _rebag(bag_dir)
    result = verify_package(bag_dir, ROOTS())
    assert not result.ok
    assert any("content does not match its hash" in p for p in result.problems)


def test_a_changed_minutes_pdf_is_caught_even_with_fresh_manifests(sealed, tmp_path):
    package = export_package(sealed.id, tmp_path / "p.zip")

    def tamper(pdf: bytes) -> bytes:
        offset = pdf.index(b"stream", 200) + 20
        return pdf[:offset] + bytes([pdf[offset] ^ 0x01]) + pdf[offset + 1:]

    bag_dir = _rewrite(package, tmp_path, "minutes-signed.pdf", tamper)
    _rebag(bag_dir)
    result = verify_package(bag_dir, ROOTS())
    assert not result.ok and any("signature" in p for p in result.problems)


def test_export_refuses_unsealed_meetings(app, tmp_path):
    meeting = factories.make_meeting(status=MeetingStatus.CLOSED)
    with pytest.raises(Conflict):
        export_package(meeting.id, tmp_path / "p.zip")


def test_fold_is_one_character_for_one():
    text = "Biên bản kỳ họp HĐND tỉnh Lâm Đồng: ẫ ệ ữ ỳ đ"
    assert fold(text) == "bien ban ky hop hdnd tinh lam dong: a e u y d"
    assert len(fold(text)) == len(text)


@pytest.mark.parametrize("query, label_part", [
    ("bien ban", "attendance"),  # "Biên bản được lập xong…" in the closing text
    ("BIÊN BẢN", "attendance"),
    ("dau tu cong", "item:"),
    ("da lat", "1"),  # "Đà Lạt" in the place: đ folds to d
    ("Đức Trọng", "attendance"),
    ("cao toc tan phu", "page"),  # the text of a document page
])
def test_search_is_diacritic_insensitive(sealed, archivist, query, label_part):
    hits = search(archivist, query)
    assert hits, query
    assert any(label_part in (h["ref"] if h["kind"] != "page" else "page") for h in hits)
    assert all(h["meeting_id"] == sealed.id for h in hits)


def test_snippets_show_the_original_words(sealed, archivist):
    hit = search(archivist, "cao toc")[0]
    assert "Đường cao tốc Tân Phú - Bảo Lộc" in hit["snippet"]
    assert hit["kind"] == "page" and "Báo cáo tình hình" in hit["label"]
    assert "Biên bản được lập xong" in search(archivist, "bien ban duoc lap")[0]["snippet"]


def test_snippets_cut_at_word_boundaries():
    original = " ".join(f"Đại biểu thứ {n} phát biểu ý kiến." for n in range(30))
    original += " Biên bản kết thúc."
    snippet = _snippet(original, fold(original), ["bien", "ban"])
    assert snippet.startswith("…") and not snippet.endswith("…")
    core = snippet.strip("…")
    assert core.endswith("Biên bản kết thúc.")
    assert (" " + core) in original  # begins with a whole word


def test_search_filters_by_body_and_dates(sealed, archivist):
    day = sealed.starts_at.date()
    assert search(archivist, "bien ban", body=sealed.body)
    assert not search(archivist, "bien ban", body="Hội đồng quản trị")
    assert search(archivist, "bien ban", date_from=day, date_to=day)
    assert not search(archivist, "bien ban", date_from=day + timedelta(days=1))
    assert not search(archivist, "bien ban", date_to=day - timedelta(days=1))


def test_search_sees_sealed_meetings_only(app, archivist):
    meeting = factories.make_meeting(title="Họp giao ban tuần", status=MeetingStatus.CLOSED)
    index_meeting(meeting)
    db.session.commit()
    assert not search(archivist, "giao ban")


def test_search_is_for_archivists(sealed):
    with pytest.raises(Forbidden):
        search(Actor.of_user(factories.make_user(Role.DELEGATE)), "bien ban")
    with pytest.raises(NotAuthenticated):
        search(None, "bien ban")
    with pytest.raises(InvalidInput):
        search(Actor.of_user(factories.make_user(Role.ADMIN)), " -- ")


def test_search_on_postgresql(tmp_path, postgres_url):
    """The same search on PostgreSQL (tsvector over pre-folded text), in a schema of its own."""
    from server import create_app
    from server.models import Base
    from tests.conftest import test_config

    schema = f"hemicycle_archive_{abs(hash(str(tmp_path))) % 10**8}"
    admin_engine = sqlalchemy.create_engine(postgres_url)
    with admin_engine.begin() as connection:
        connection.execute(sqlalchemy.text(f"CREATE SCHEMA {schema}"))
    url = f"{postgres_url}?options=-csearch_path%3D{schema}"
    try:
        app = create_app(test_config(tmp_path, DATABASE_URL=url))
        with app.app_context():
            Base.metadata.create_all(db.engine)
            meeting = seed_sealed_meeting()
            actor = Actor.of_user(factories.make_user(Role.ADMIN))
            assert any(h["ref"] == "attendance" for h in search(actor, "bien ban"))
            assert any(h["kind"] == "page" for h in search(actor, "Cao Toc"))
            assert search(actor, "da lat", body=meeting.body)
            assert not search(actor, "da lat", date_from=meeting.starts_at.date() + timedelta(days=1))
            assert audit.verify().ok
            db.session.remove()
            db.engine.dispose()
    finally:
        with admin_engine.begin() as connection:
            connection.execute(sqlalchemy.text(f"DROP SCHEMA {schema} CASCADE"))
        admin_engine.dispose()


def test_verify_refuses_what_is_not_a_package(app, tmp_path):
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"PK\x03\x04 not really")
    assert not verify_package(junk, ROOTS()).ok
    hostile = tmp_path / "hostile.zip"
    with zipfile.ZipFile(hostile, "w") as archive:
        archive.writestr("../../escaped.txt", "x")
    result = verify_package(hostile, ROOTS())
    assert not result.ok and "unsafe path" in result.problems[0]
    assert not (tmp_path.parent / "escaped.txt").exists()
    assert not verify_package(tmp_path, ROOTS()).ok  # a directory that is not a bag


def _stretch_with_foreign_entries(app):
    """The meeting's entries with an entry of no meeting and one of another meeting between."""
    from server.services.archive.package import audit_segment

    admin = Actor.of_user(factories.make_user(Role.ADMIN, username="quantri2"))
    meeting, other = factories.make_meeting(), factories.make_meeting()
    audit.record("meeting.updated", "meeting", meeting.id, actor=admin, meeting_id=meeting.id)
    audit.record("certificate.imported", "certificate", 7, actor=admin)
    audit.record("meeting.updated", "meeting", other.id, actor=admin, meeting_id=other.id)
    head = audit.record("meeting.updated", "meeting", meeting.id, actor=admin,
                        meeting_id=meeting.id)
    db.session.commit()
    return [json.dumps(e) for e in audit_segment(meeting.id)], head.hash


def test_other_entries_in_the_stretch_are_withheld_and_still_bound(app):
    from server.services.archive.verify import check_audit_segment

    lines, head = _stretch_with_foreign_entries(app)
    entries = [json.loads(line) for line in lines]
    assert [e["withheld"] for e in entries] == [False, True, True, False]
    assert all(e["actor"] == "" and e["payload"] is None for e in entries if e["withheld"])
    assert check_audit_segment(lines, head) == []

    forged = [dict(e) for e in entries]
    forged[1]["hash"] = "0" * 64  # a withheld entry swapped: the next one no longer follows
    assert any("does not follow" in p
               for p in check_audit_segment([json.dumps(e) for e in forged], head))
    hidden = [dict(e) for e in entries]
    hidden[0]["withheld"] = True  # the meeting's own entry passed off as another's
    assert any("own entry is withheld" in p
               for p in check_audit_segment([json.dumps(e) for e in hidden], head))
