"""Services failing under a live server: a private Redis killed and restarted, the server
killed -9 in the middle of an upload and of a signature.

The Redis shared by every engineer's runs on this machine (6379) is never touched: the
Redis test starts a ``redis-server`` of its own on a free port. PostgreSQL is shared too
and is never restarted (docs/SECURITY.md).
"""
from __future__ import annotations

import http.client
import os
import secrets
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest
import redis
import requests
from sqlalchemy import func, select

from server.extensions import db
from server.models import Blob, Document, DocumentVersion, Minutes, Signature
from tests.conftest import service_unavailable
from tests.faults.room import db_revision, ok
from tests.live import LiveServer, app_context_on, free_port, scaled_out, wait_until
from tests.pg import scratch_database
from tests.realtime.clients import LiveClient, login, login_cookie
from tests.realtime.seed import seed_meeting

pytestmark = [pytest.mark.live]

FIXTURE_PDF = Path(__file__).resolve().parent.parent / "fixtures" / "pdfs" / "libtasn1-manual.pdf"


# --- 1. Redis killed -9 and restarted under two workers -------------------------------------

class PrivateRedis:
    """A redis-server of this test's own, on a free port, without persistence."""

    def __init__(self, workdir: Path):
        self.workdir, self.port, self.process = workdir, free_port(), None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "PrivateRedis":
        binary = shutil.which("redis-server")
        if binary is None:
            service_unavailable("redis-server", "not installed")
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--daemonize", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(self.answers, 15, "private redis-server answering")
        return self

    def answers(self) -> bool:
        try:
            return redis.Redis(port=self.port, socket_connect_timeout=1).ping()
        except redis.RedisError:
            return False

    def subscribers(self, channel: str) -> int:
        try:
            [(_, count)] = redis.Redis(port=self.port, socket_connect_timeout=1) \
                .pubsub_numsub(channel)
            return count
        except redis.RedisError:
            return 0

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


@pytest.fixture
def private_redis(tmp_path):
    server = PrivateRedis(tmp_path / "redis").start()
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture
def workers(tmp_path, postgres_url, private_redis):
    with scratch_database(postgres_url) as database_url, \
            scaled_out(tmp_path, database_url, private_redis.url, migrate=True) as workers:
        yield workers


@pytest.mark.services
def test_workers_carry_on_after_redis_is_killed_and_restarted(private_redis, workers):
    channel = workers.channel
    clients = []
    try:
        first, second = workers
        seeded = seed_meeting()
        mid = seeded.meeting.id
        chair = LiveClient(first.url, cookie=login_cookie(first.url, seeded.chair_user),
                           auth={"meeting_id": mid}).connect()
        delegate = LiveClient(second.url, cookie=login_cookie(first.url, seeded.delegate_user),
                              auth={"meeting_id": mid}).connect()
        tablet = LiveClient(second.url, auth={"token": seeded.tablet_token}).connect()
        clients = [chair, delegate, tablet]
        wait_until(lambda: private_redis.subscribers(channel) >= 2, 20,
                   "both workers subscribed to the channel")

        ok(chair.call("session.open", {"meeting_id": mid}))
        moved = ok(chair.call("item.next", {"meeting_id": mid}))
        for client in (delegate, tablet):
            [event] = client.wait_for_event("item.changed", current_item_id=seeded.items[0].id)
            assert event["revision"] == moved["revision"]

        private_redis.kill()
        assert private_redis.subscribers(channel) == 0
        # While Redis is down a change is still committed and acknowledged on its worker.
        during = chair.call("item.next", {"meeting_id": mid}, timeout=30)
        assert during.get("ok"), during
        private_redis.start()  # same port
        wait_until(lambda: private_redis.subscribers(channel) >= 2, 60,
                   "both workers re-subscribed after the Redis restart")
        for worker in workers:
            assert worker.process.poll() is None, worker.log()

        after = ok(chair.call("item.next", {"meeting_id": mid}))
        for client in (delegate, tablet):
            [event] = client.wait_for_event("item.changed", current_item_id=seeded.items[2].id)
            assert event["revision"] == after["revision"]
        # A client that missed the change made while Redis was down catches up with sync.
        target = db_revision(mid)
        assert target == after["revision"]
        for client in clients:
            answer = ok(client.call("sync", {"meeting_id": mid, "since_revision": 0}))
            assert answer["revision"] == target
        for worker in workers:
            assert requests.get(worker.url + "/healthz", timeout=5).status_code == 200
    finally:
        for client in clients:
            client.close()


# --- 2. kill -9 in the middle of an upload --------------------------------------------------

def big_pdf(megabytes: int) -> bytes:
    """A valid one-page PDF carrying an uncompressed grey image of about ``megabytes`` MB."""
    side = int((megabytes * 2**20) ** 0.5)
    image = os.urandom(side * side)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /XObject << /Im0 5 0 R >> >> /Contents 4 0 R >>",
    ]
    content = b"q 595 0 0 842 0 0 cm /Im0 Do Q"
    streams = {4: (b"<< /Length %d >>" % len(content), content),
               5: (b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace "
                   b"/DeviceGray /BitsPerComponent 8 /Length %d >>" % (side, side, len(image)),
                   image)}
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number in range(1, 6):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number
        if number in streams:
            head, body = streams[number]
            out += head + b"\nstream\n" + body + b"\nendstream"
        else:
            out += objects[number - 1]
        out += b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 6\n0000000000 65535 f \n"
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size 6 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def multipart(filename: str, data: bytes, boundary: str) -> tuple[bytes, bytes]:
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\n"
            f"Tài liệu lớn\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"{filename}\"\r\nContent-Type: application/pdf\r\n\r\n").encode()
    return head + data, f"\r\n--{boundary}--\r\n".encode()


def files_under(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*") if p.is_file()) if path.exists() else []


@pytest.fixture
def sqlite_server(tmp_path):
    database_url = f"sqlite:///{tmp_path / 'live.db'}"
    with app_context_on(tmp_path, database_url):
        servers = [LiveServer(tmp_path / "data", database_url)]
        try:
            yield servers
        finally:
            for server in servers:
                server.stop()


def test_kill_9_during_an_upload_leaves_no_document_and_no_blob(sqlite_server):
    server = sqlite_server[0].start()
    seeded = seed_meeting(pair_tablet=False)
    mid = seeded.meeting.id
    http = login(server.url, seeded.secretary_user)
    body, tail = multipart("lon.pdf", big_pdf(40), boundary := secrets.token_hex(16))
    assert len(body) < 60 * 2**20  # under MAX_CONTENT_LENGTH (64 MB): the server reads it all

    half_sent, outcome = threading.Event(), {}

    def upload():
        connection = http_client(server)
        try:
            connection.putrequest("POST", f"/api/v1/meetings/{mid}/documents")
            connection.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
            connection.putheader("Content-Length", str(len(body) + len(tail)))
            connection.putheader("X-CSRFToken", http.headers["X-CSRFToken"])
            connection.putheader("User-Agent", http.headers["User-Agent"])
            connection.putheader("Cookie", "; ".join(f"{c.name}={c.value}" for c in http.cookies))
            connection.endheaders()
            step = 2**20
            for start in range(0, len(body), step):
                connection.send(body[start:start + step])
                if start >= 12 * step:
                    half_sent.set()
                    time.sleep(0.05)  # leave the kill time to land while bytes still flow
            connection.send(tail)
            outcome["status"] = connection.getresponse().status
        except OSError as error:
            outcome["error"] = error
        finally:
            half_sent.set()
            connection.close()

    sender = threading.Thread(target=upload, daemon=True)
    sender.start()
    assert half_sent.wait(60)
    server.kill()
    sender.join(60)
    assert not sender.is_alive()
    assert "status" not in outcome, f"the upload finished before the kill: {outcome}"

    restarted = server.restarted()
    sqlite_server.append(restarted)
    db.session.remove()
    for model in (Document, DocumentVersion, Blob):
        assert db.session.scalar(select(func.count()).select_from(model)) == 0, model
    # Blobs are written to a .tmp- name and renamed (services/documents/storage.py), and only after the
    # whole body was read: nothing of the interrupted upload is in blobs/. (A kill after the
    # body was read could leave DATA_DIR/tmp/upload-* behind; that is not asserted here.)
    assert files_under(server.data_dir / "blobs") == []

    http = login(restarted.url, seeded.secretary_user)
    with open(FIXTURE_PDF, "rb") as handle:
        answer = http.post(f"{restarted.url}/api/v1/meetings/{mid}/documents", timeout=120,
                           files={"file": ("nho.pdf", handle, "application/pdf")})
    assert answer.status_code == 201, answer.text
    db.session.remove()
    assert db.session.scalar(select(func.count()).select_from(Document)) == 1
    [blob] = db.session.scalars(select(Blob))
    assert (server.data_dir / "blobs" / blob.sha256[:2] / blob.sha256[2:]).is_file()
    assert requests.get(restarted.url + "/healthz", timeout=5).status_code == 200


def http_client(server: LiveServer) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)


# --- 3. kill -9 while the chair's signature may be in flight --------------------------------

def chair_signatures(minutes_id: int) -> list[Signature]:
    db.session.remove()
    return list(db.session.scalars(select(Signature).where(Signature.minutes_id == minutes_id)))


def assert_signature_matches_a_valid_pdf(server: LiveServer, signature: Signature, role: str):
    from server.services.minutes import signing
    from server.services.minutes.trust import read_roots
    from server.services.minutes.verify import verify_pdf

    assert db.session.get(Blob, signature.pdf_sha256) is not None
    path = server.data_dir / "blobs" / signature.pdf_sha256[:2] / signature.pdf_sha256[2:]
    assert path.is_file(), "a Signature row whose signed PDF is missing"
    check = verify_pdf(path.read_bytes(), read_roots([server.data_dir / "ca" / "ca.pem"]))
    assert check.error is None, check.error
    [mine] = [s for s in check.signatures if s.field == signing.FIELDS[role]]
    assert mine.intact and mine.valid, mine
    return check


@pytest.mark.parametrize("moment", ["soon_after_the_request", "once_the_signed_pdf_is_on_disk"])
def test_kill_9_while_signing_leaves_minutes_unsigned_or_validly_signed(sqlite_server, moment):
    from server.models import Role
    from server.services.minutes import minutes as minutes_service
    from server.services.actors import Actor
    from server.services.archive.demo_record import DEMO_PASSPHRASE, seed_held_meeting
    from tests import factories

    server = sqlite_server[0]
    chair_user, secretary_user = factories.make_user(Role.CHAIR), factories.make_user(Role.SECRETARY)
    meeting, _, _ = seed_held_meeting(chair=chair_user, secretary=secretary_user)
    minutes_service.draft_minutes(meeting.id, Actor.system(), "vi")
    minutes_service.finalise_minutes(meeting.id, Actor.system())
    db.session.commit()
    mid = meeting.id
    minutes_id = db.session.scalar(select(Minutes.id).where(Minutes.meeting_id == mid))
    server.start()
    chair = login(server.url, chair_user)
    url = f"{server.url}/api/v1/meetings/{mid}/minutes/signatures"

    outcome = {}

    def sign():
        try:
            outcome["status"] = chair.post(url, json={"passphrase": DEMO_PASSPHRASE},
                                           timeout=60).status_code
        except requests.RequestException as error:
            outcome["error"] = error

    blobs = server.data_dir / "blobs"
    stored = len(files_under(blobs))
    signer = threading.Thread(target=sign, daemon=True)
    signer.start()
    if moment == "soon_after_the_request":
        time.sleep(0.2)  # somewhere in the request (not a timing assertion: any point is safe)
    else:  # the signed PDF is written to the blob store before its rows are committed
        wait_until(lambda: len(files_under(blobs)) > stored or "status" in outcome
                   or "error" in outcome, 60, "the signed PDF written")
    server.kill()
    signer.join(60)
    assert not signer.is_alive()

    restarted = server.restarted()
    sqlite_server.append(restarted)
    signatures = chair_signatures(minutes_id)
    assert len(signatures) <= 1
    if outcome.get("status") == 201:
        assert len(signatures) == 1, "an acknowledged signature was lost"
    for signature in signatures:
        assert_signature_matches_a_valid_pdf(restarted, signature, "chair")
    db.session.remove()
    minutes = db.session.get(Minutes, minutes_id)
    assert minutes.status.value == "final"

    # The meeting can be signed to the end after the crash.
    chair = login(restarted.url, chair_user)
    again = chair.post(url, json={"passphrase": DEMO_PASSPHRASE}, timeout=60)
    assert again.status_code == (409 if signatures else 201), again.text
    secretary = login(restarted.url, secretary_user)
    sealed = secretary.post(url, json={"passphrase": DEMO_PASSPHRASE}, timeout=60)
    assert sealed.status_code == 201, sealed.text
    signatures = chair_signatures(minutes_id)
    assert sorted(s.role.value for s in signatures) == ["chair", "secretary"]
    [last] = [s for s in signatures if s.role.value == "secretary"]
    assert assert_signature_matches_a_valid_pdf(restarted, last, "secretary").ok
