"""Signed checkpoints of the audit head: written on finalise and seal, checked by verify."""
from __future__ import annotations

import json
import stat

import pytest
from sqlalchemy import select

from server.extensions import db
from server.models import AuditEntry
from server.services import audit
from server.services.actors import Actor
from server.services.anchoring import chain, checkpoints, keys
from server.services.archive.demo_record import DEMO_PASSPHRASE, seed_held_meeting
from server.services.minutes import minutes as minutes_service, signing
from tests.tsa import local_tsa

SYSTEM = Actor.system()


def _lines(app) -> list[dict]:
    path = checkpoints.checkpoint_path()
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def _append(n: int) -> None:
    for i in range(n):
        audit.record("meeting.updated", "meeting", i, actor=SYSTEM, payload={"n": i})
    db.session.commit()


def _last_entry() -> AuditEntry:
    return db.session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()


def test_finalise_and_seal_each_write_a_signed_checkpoint_of_the_committed_head(app):
    meeting, chair, secretary = seed_held_meeting()
    minutes_service.draft_minutes(meeting.id, SYSTEM)
    db.session.commit()
    assert _lines(app) == []  # drafting is not a checkpoint

    minutes_service.finalise_minutes(meeting.id, SYSTEM)
    assert _lines(app) == []  # not before the commit: the head may yet roll back
    db.session.commit()
    finalised = _last_entry()
    assert finalised.action == "minutes.finalised"
    [first] = _lines(app)
    assert (first["seq"], first["hash"], first["reason"]) == (finalised.seq, finalised.hash,
                                                             "minutes.finalised")

    signing.sign_minutes(meeting.id, Actor.of_user(chair), DEMO_PASSPHRASE)
    db.session.commit()
    assert len(_lines(app)) == 1  # the chair's signature alone is no checkpoint
    signing.sign_minutes(meeting.id, Actor.of_user(secretary), DEMO_PASSPHRASE)
    db.session.commit()
    sealed = _last_entry()
    assert sealed.action == "meeting.sealed"
    second = _lines(app)[1]
    assert (second["seq"], second["hash"], second["reason"]) == (sealed.seq, sealed.hash,
                                                                "meeting.sealed")
    report = chain.verify_chain()
    assert report.ok, report.problems
    assert report.checkpoints == 2 and report.minutes == 1


def test_a_rolled_back_finalisation_writes_no_checkpoint(app):
    meeting, _chair, _secretary = seed_held_meeting()
    minutes_service.draft_minutes(meeting.id, SYSTEM)
    db.session.commit()
    minutes_service.finalise_minutes(meeting.id, SYSTEM)
    db.session.rollback()
    assert _lines(app) == []


def test_the_audit_key_is_made_once_private_and_signs_every_line(app):
    _append(2)
    checkpoints.checkpoint_now("manual")
    _append(1)
    checkpoints.checkpoint_now("manual")
    signer = keys.signer()
    assert stat.S_IMODE(signer.private_path.stat().st_mode) == 0o600
    assert {line["key"] for line in _lines(app)} == {signer.key_id()}
    assert chain.verify_chain().ok


def test_an_unmoved_head_is_not_checkpointed_again_at_the_interval(app):
    _append(2)
    assert checkpoints.checkpoint_now("interval", only_if_moved=True) is not None
    assert checkpoints.checkpoint_now("interval", only_if_moved=True) is None
    _append(1)
    assert checkpoints.checkpoint_now("interval", only_if_moved=True)["seq"] == 3


def test_an_edited_checkpoint_line_has_a_bad_signature(app):
    _append(3)
    checkpoints.checkpoint_now("manual")
    path = checkpoints.checkpoint_path()
    line = json.loads(path.read_text())
    line["at"] = "2020-01-01T00:00:00+00:00"
    path.write_text(audit.canonical_json(line) + "\n")
    report = chain.verify_chain()
    assert report.problems == ["checkpoint 1 (seq 3, 2020-01-01T00:00:00+00:00, manual): "
                               "bad signature"]


def test_a_checkpoint_signed_by_another_key_is_refused(app, tmp_path):
    _append(2)
    checkpoints.checkpoint_now("manual")
    other = keys.FileSigner(tmp_path / "other" / "audit.key")
    report = chain.verify_chain(public_pem=other.public_pem())
    assert len(report.problems) == 1 and "signed by another key" in report.problems[0]


def test_pkcs11_is_refused_rather_than_signing_with_a_file(app):
    app.config["AUDIT_KEY"] = "pkcs11:token=hemicycle"
    _append(1)
    with pytest.raises(keys.AuditKeyError):
        checkpoints.checkpoint_now("manual")


def test_checkpoints_are_timestamped_by_the_configured_tsa(app):
    _append(2)
    with local_tsa() as tsa:
        app.config["AUDIT_TSA_URL"] = tsa.url
        written = checkpoints.checkpoint_now("manual")
        assert tsa.requests == ["application/timestamp-query"]
    assert written["tst"]
    report = chain.verify_chain(tsa_roots=[tsa.root_pem])
    assert report.ok, report.problems
    assert report.timestamped == 1
    [line] = checkpoints.read_checkpoints(checkpoints.checkpoint_path().read_text().splitlines(),
                                          keys.signer().public_pem(), [tsa.root_pem])
    assert line.timestamp.trusted and "Test TSA" in line.timestamp.tsa


def test_a_timestamp_of_other_data_or_an_unknown_tsa_fails(app):
    _append(2)
    with local_tsa() as tsa, local_tsa() as stranger:
        app.config["AUDIT_TSA_URL"] = tsa.url
        checkpoints.checkpoint_now("manual")
        _append(1)
        checkpoints.checkpoint_now("manual")
    path = checkpoints.checkpoint_path()
    first, second = [json.loads(line) for line in path.read_text().splitlines()]
    assert chain.verify_chain(tsa_roots=[stranger.root_pem]).problems == [
        f"checkpoint {n} (seq {s}, {c['at']}, manual): timestamp by an untrusted TSA (Common "
        "Name: Test TSA)" for n, s, c in ((1, 2, first), (2, 3, second))]
    first["tst"] = second["tst"]  # a genuine token, but over another checkpoint
    path.write_text(audit.canonical_json(first) + "\n" + audit.canonical_json(second) + "\n")
    problems = chain.verify_chain(tsa_roots=[tsa.root_pem]).problems
    assert problems == [f"checkpoint 1 (seq 2, {first['at']}, manual): timestamp: "
                        "the timestamp is of other data"]


def test_a_timestamp_of_another_time_than_the_checkpoint_states_fails(app):
    """What a checkpoint forged later looks like: its signed time is old, its timestamp new."""
    from datetime import datetime, timedelta, timezone

    _append(1)
    with local_tsa(clock=datetime.now(timezone.utc) + timedelta(days=1)) as tsa:
        app.config["AUDIT_TSA_URL"] = tsa.url
        written = checkpoints.checkpoint_now("manual")
    [problem] = chain.verify_chain(tsa_roots=[tsa.root_pem]).problems
    assert problem.startswith(f"checkpoint 1 (seq 1, {written['at']}, manual): timestamped at ")
    assert problem.endswith("not at the time it states")


def test_an_unreachable_tsa_leaves_a_signed_checkpoint_without_a_timestamp(app):
    _append(1)
    with local_tsa() as tsa:
        url = tsa.url
    app.config["AUDIT_TSA_URL"] = url  # the server is gone: connection refused
    written = checkpoints.checkpoint_now("manual")
    assert "tst" not in written and chain.verify_chain().ok


def test_on_postgresql_the_seal_checkpoint_is_the_committed_head(postgres_url, tmp_path):
    """The head at commit comes from the transaction's own appends (under PostgreSQL's
    writers' lock): the checkpoint must be the entry the database then holds last."""
    from server import create_app
    from server.models import Base
    from server.services.archive.demo_record import seed_sealed_meeting
    from tests.conftest import test_config
    from tests.pg import scratch_database

    with scratch_database(postgres_url) as url:
        app = create_app(test_config(tmp_path, DATABASE_URL=url))
        with app.app_context():
            Base.metadata.create_all(db.engine)
            seed_sealed_meeting()
            db.session.remove()
            [line] = _lines(app)
            last = _last_entry()
            assert (line["seq"], line["hash"]) == (last.seq, last.hash)
            assert line["reason"] == "minutes.finalised,meeting.sealed"
            report = chain.verify_chain()
            assert report.ok and report.checkpoints == 1, report.problems
            db.session.remove()
        db.engine.dispose()
