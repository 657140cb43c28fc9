"""``/metrics``: the Prometheus text format, for a scraper holding the metrics token.

Off unless ``HEMICYCLE_METRICS_TOKEN`` is set (404 then, as for any unknown page); with it,
the scraper sends ``Authorization: Bearer <token>``. Besides the counters the code keeps
(server/monitoring/metrics.py), every scrape computes: connections by kind and meeting, database and
Redis health, the last backup's time, and the version. Numbers are per worker process
(see server/monitoring/metrics.py).
"""
from __future__ import annotations

import hmac
import logging

from flask import Flask, Response, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, Info, generate_latest

from server.monitoring import metrics
from server.errors import NotAuthenticated, NotFound

log = logging.getLogger(__name__)
KINDS = {"device": "tablet", "projector": "projector", "user": "user"}


def database_up() -> bool:
    from sqlalchemy import text

    from server.extensions import db

    try:
        db.session.execute(text("SELECT 1"))
        return True
    except Exception as exc:  # any failure means "down", which is what the gauge says
        log.warning("metrics: database check failed: %s", str(exc).splitlines()[0])
        db.rollback_quietly()
        return False
    finally:
        db.session.remove()


def redis_up(url: str) -> bool:
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception as exc:
        log.warning("metrics: Redis check failed: %s", exc)
        return False


def scrape() -> CollectorRegistry:
    """The gauges measured now, in a registry made for this scrape."""
    from server.realtime.context import connection_counts
    from server.services.backup.create import last_backup, version

    registry = CollectorRegistry(auto_describe=True)
    Info("hemicycle", "The running version.", registry=registry).info({"version": version()})
    connected = Gauge("hemicycle_connections", "Socket.IO connections held by this worker, by "
                      "kind (tablet, projector, user) and meeting.", ["kind", "meeting"],
                      registry=registry)
    for (kind, meeting_id), count in connection_counts().items():
        connected.labels(KINDS.get(kind, kind), str(meeting_id)).set(count)
    Gauge("hemicycle_database_up", "1 when the database answers SELECT 1.",
          registry=registry).set(1 if database_up() else 0)
    redis_url = current_app.config.get("REDIS_URL")
    if redis_url:
        Gauge("hemicycle_redis_up", "1 when Redis (the Socket.IO message queue) answers PING.",
              registry=registry).set(1 if redis_up(redis_url) else 0)
    last = last_backup(current_app.config["DATA_DIR"])
    if last:
        from datetime import datetime

        Gauge("hemicycle_last_backup_timestamp_seconds",
              "When the last `hemicycle backup create` of this data directory finished.",
              registry=registry).set(datetime.fromisoformat(last["created_at"]).timestamp())
    return registry


def init_app(app: Flask) -> None:
    @app.get("/metrics")
    def metrics_page():
        token = current_app.config.get("METRICS_TOKEN")
        if not token:
            raise NotFound("There is no such page.")
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            raise NotAuthenticated("Send the metrics token: Authorization: Bearer <token>.",
                                   code="metrics_token_required")
        body = generate_latest(metrics.REGISTRY) + generate_latest(scrape())
        return Response(body, mimetype=CONTENT_TYPE_LATEST)
