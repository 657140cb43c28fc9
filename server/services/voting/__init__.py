"""Polls and ballots. Lower modules first: nothing here imports a module above it.

- ``lookup``: finding and locking a poll, the poll view, who votes.
- ``rules``: the fields a draft poll may change, checked together.
- ``tally``: counting rules as pure functions.
- ``sealing``: receipts, sealed answers of secret ballots, their reshuffle at closing.
- ``results``: attendance figures, the stored result and who sees it.
- ``progress``: live progress for staff, throttled broadcasts.
- ``closing``: closing a poll (by the chair, on time, or on sight), find_poll.
- ``polls``: draft, open, close, publish, cancel, re-vote; staff progress.
- ``ballots``: casting ballots, rights, proxies, idempotency.
- ``ballot_queue``: group commit for ballots arriving together.
- ``export``: a result as CSV, JSON or PDF.

Callers import the modules: ``from server.services.voting import lookup``.
"""
