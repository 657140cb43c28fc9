"""Receipts, the sealed answers and sealed ballots of secret polls, opened at closing.

A secret poll's ``VoterRecord`` keeps the receipt sealed with AES-GCM under a
key derived from the client's ballot id, which the database never holds (only
sha256 of it, for lookup): a retry gets the same receipt back, a reader of the
database does not.

While the poll is open its ballots are ``SealedBallot`` rows: the receipt, the
weight and the choices, of one length whatever was chosen, encrypted under a
key derived from the server's secret and the poll's random ``BallotKey``. Rows
sit in the database in the order of voting, as the voter records and the
audit log do, but without the key that order links nobody to a choice. At
closing they are opened, shuffled and written as ``Ballot`` rows in one
transaction, and the sealed rows and the key are erased. See docs/VOTING.md.
"""
from __future__ import annotations

import base64
import hashlib
import json
import secrets
import uuid
from decimal import Decimal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from sqlalchemy import delete, select

from server.extensions import db
from server.models import Ballot, BallotKey, Poll, SealedBallot
from server.models.base import new_uuid

ERASED_TABLES = ("sealed_ballot", "ballot_key")

RECEIPT_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
RECEIPT_LENGTH = 10  # 50 bits


def new_receipt() -> str:
    return "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(RECEIPT_LENGTH))


def ballot_id_digest(ballot_id: uuid.UUID) -> str:
    return hashlib.sha256(str(ballot_id).encode()).hexdigest()


def choices_digest(choices: list[str]) -> bytes:
    return hashlib.sha256(json.dumps(choices).encode()).digest()


def _seal_key(ballot_id: uuid.UUID, poll_id: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"hemicycle/ballot-seal/v1",
                info=f"poll:{poll_id}".encode()).derive(ballot_id.bytes)


def seal(ballot_id: uuid.UUID, poll_id: int, receipt: str, choices: list[str]) -> str:
    """The receipt and a digest of the choices, encrypted: always the same length."""
    nonce = secrets.token_bytes(12)
    plain = receipt.encode() + choices_digest(choices)
    return base64.b64encode(nonce + AESGCM(_seal_key(ballot_id, poll_id)).encrypt(
        nonce, plain, None)).decode()


def unseal(ballot_id: uuid.UUID, poll_id: int, sealed: str) -> tuple[str, bytes]:
    raw = base64.b64decode(sealed)
    plain = AESGCM(_seal_key(ballot_id, poll_id)).decrypt(raw[:12], raw[12:], None)
    return plain[:RECEIPT_LENGTH].decode(), plain[RECEIPT_LENGTH:]


def ballot_box_key(poll: Poll) -> bytes:
    """The open poll's ballot key; its salt is made on first use (under the poll's lock)."""
    row = db.session.get(BallotKey, poll.id)
    if row is None:
        row = BallotKey(poll_id=poll.id, salt=secrets.token_hex(32))
        db.session.add(row)
    return _box_key(poll.id, row.salt)


def _box_key(poll_id: int, salt: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=bytes.fromhex(salt),
                info=f"hemicycle/sealed-ballot/v1 poll:{poll_id}".encode()
                ).derive(current_app.config["SECRET_KEY"].encode())


def _choice_bits(poll: Poll, choices: list[str]) -> bytes:
    keys = [o.key for o in poll.options]
    bits = sum(1 << keys.index(key) for key in choices)
    return bits.to_bytes(max(1, (len(keys) + 7) // 8), "big")


def seal_ballot(key: bytes, poll: Poll, row_id: str, receipt: str, choices: list[str],
                weight: Decimal) -> str:
    """A ballot as a ``SealedBallot.box``: the same length for every ballot of the poll,
    bound to its row (a copied box does not open under another id)."""
    nonce = secrets.token_bytes(12)
    plain = receipt.encode() + format(Decimal(weight), "020.4f").encode() + _choice_bits(
        poll, choices)
    return base64.b64encode(nonce + AESGCM(key).encrypt(
        nonce, plain, f"{poll.id}:{row_id}".encode())).decode()


def _open_box(key: bytes, poll: Poll, sealed: SealedBallot) -> tuple | None:
    try:
        raw = base64.b64decode(sealed.box)
        plain = AESGCM(key).decrypt(raw[:12], raw[12:], f"{poll.id}:{sealed.id}".encode())
    except (InvalidTag, ValueError):
        return None
    bits = int.from_bytes(plain[RECEIPT_LENGTH + 20:], "big")
    choices = [o.key for n, o in enumerate(poll.options) if bits >> n & 1]
    return choices, Decimal(plain[RECEIPT_LENGTH:RECEIPT_LENGTH + 20].decode()), \
        plain[:RECEIPT_LENGTH].decode()


def open_secret_ballots(poll: Poll) -> int:
    """At closing: every ballot of a secret poll opened, shuffled and rewritten with fresh ids
    in one transaction; the sealed ballots and the key erased. The number of sealed ballots
    that did not open (altered in the database, or a changed server secret) is returned:
    they are not counted.

    Ballots already in clear (cast before sealing existed) are rewritten too: on
    PostgreSQL rows sit in insertion order and carry their transaction's id.
    """
    rows = [tuple(r) for r in db.session.execute(
        select(Ballot.choices, Ballot.weight, Ballot.receipt).where(Ballot.poll_id == poll.id))]
    key_row = db.session.get(BallotKey, poll.id)
    key = _box_key(poll.id, key_row.salt) if key_row is not None else None
    rejected = 0
    for sealed in db.session.scalars(select(SealedBallot).where(SealedBallot.poll_id == poll.id)):
        opened = _open_box(key, poll, sealed) if key is not None else None
        if opened is None:
            rejected += 1
        else:
            rows.append(opened)
    secrets.SystemRandom().shuffle(rows)
    erase_secret_ballots(poll)
    db.session.add_all(Ballot(id=new_uuid(), poll_id=poll.id, choices=choices, weight=weight,
                              receipt=receipt) for choices, weight, receipt in rows)
    db.session.flush()
    return rejected


def erase_secret_ballots(poll: Poll) -> None:
    """Delete every ballot of a secret poll, sealed or not, and its key (at cancelling, a
    poll's ballots are never counted); the journal is scrubbed once the caller commits."""
    db.session.flush()
    db.session.execute(delete(Ballot).where(Ballot.poll_id == poll.id))
    db.session.execute(delete(SealedBallot).where(SealedBallot.poll_id == poll.id))
    db.session.execute(delete(BallotKey).where(BallotKey.poll_id == poll.id))
    db.scrub_after_commit(*ERASED_TABLES)
