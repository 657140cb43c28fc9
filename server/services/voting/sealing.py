"""Receipts and the sealed answers of secret ballots, and their reshuffle at closing.

A secret poll's ``VoterRecord`` keeps the receipt sealed with AES-GCM under a
key derived from the client's ballot id, which the database never holds (only
sha256 of it, for lookup): a retry gets the same receipt back, a reader of the
database does not. See docs/VOTING.md.
"""
from __future__ import annotations

import base64
import hashlib
import json
import secrets
import uuid

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import delete, select

from server.extensions import db
from server.models import Ballot, Poll
from server.models.base import new_uuid

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


def reshuffle_secret_ballots(poll: Poll) -> None:
    """Rewrite a secret poll's ballots in random order with fresh ids, at closing.

    On PostgreSQL rows sit in insertion order (and carry the inserting
    transaction's id); rewriting them all in one transaction, shuffled, leaves
    neither for a later reader. SQLite stores them without rowid, by random
    key, already; the rewrite costs little and keeps one code path.
    """
    rows = list(db.session.execute(select(Ballot.choices, Ballot.weight, Ballot.receipt)
                                   .where(Ballot.poll_id == poll.id)))
    secrets.SystemRandom().shuffle(rows)
    db.session.execute(delete(Ballot).where(Ballot.poll_id == poll.id))
    db.session.add_all(Ballot(id=new_uuid(), poll_id=poll.id, choices=r.choices, weight=r.weight,
                              receipt=r.receipt) for r in rows)
    db.session.flush()
