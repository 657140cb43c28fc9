"""The serving workers an administrator sees on the system page.

Every ``hemicycle serve`` records itself (address, pid, version, when last seen) at start
and then every ``RECORD_SECONDS``. With Redis the record is a key of the deployment's
Socket.IO channel that expires after ``TTL_SECONDS``, so any worker lists them all and a
worker that stopped disappears within the TTL. Without Redis there is one worker, and it
lists itself from memory.
"""
from __future__ import annotations

import json
import logging
import os
from datetime import datetime, timezone

log = logging.getLogger(__name__)
TTL_SECONDS = 60
RECORD_SECONDS = 15
_this_worker: dict | None = None  # this process's record, once it serves


def _key_prefix(config) -> str:
    return f"{config.get('SOCKETIO_CHANNEL') or 'hemicycle'}:worker:"


def _redis(url: str):
    import redis

    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)


def record(config, address: str) -> dict:
    """Record this worker now (in Redis when configured) and return its record."""
    from server.services.backup.create import version

    global _this_worker
    _this_worker = {"address": address, "pid": os.getpid(), "version": version(),
                    "last_seen": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    url = config.get("REDIS_URL")
    if url:
        client = _redis(url)
        try:
            client.set(_key_prefix(config) + address, json.dumps(_this_worker), ex=TTL_SECONDS)
        finally:
            client.close()
    return _this_worker


def seen(config) -> list[dict]:
    """The workers recorded within the TTL, by address; without Redis, this one if it serves.
    Redis unreachable: this one, and ``redis_error`` says why the others are missing."""
    url = config.get("REDIS_URL")
    if not url:
        return [dict(_this_worker)] if _this_worker else []
    try:
        client = _redis(url)
        try:
            keys = list(client.scan_iter(match=_key_prefix(config) + "*", count=100))
            values = client.mget(keys) if keys else []
        finally:
            client.close()
    except Exception as exc:  # the page still shows, with what this worker knows
        log.warning("workers: Redis unreachable: %s", exc)
        return [dict(_this_worker, redis_error=str(exc))] if _this_worker else []
    workers = [json.loads(value) for value in values if value]
    return sorted(workers, key=lambda worker: worker["address"])


def run_forever(app, address: str) -> None:
    """The background task of ``hemicycle serve``: renew this worker's record."""
    from server.extensions import socketio

    while True:
        socketio.sleep(RECORD_SECONDS)
        try:
            record(app.config, address)
        except Exception as exc:  # Redis away for a while: try again next time
            log.warning("workers: could not record %s: %s", address, exc)
