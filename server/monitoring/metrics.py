"""The counters and histograms the code updates as it works (Prometheus, official client).

They live in a registry of their own, not prometheus_client's global one, so that
``/metrics`` (server/monitoring/page.py) shows Hemicycle's numbers and the gauges it computes
at scrape time, and nothing else a library might register.

Each worker process counts for itself: Prometheus scrapes every worker on its own port
(docs/OPERATIONS.md, "Monitoring") and sums across them. prometheus_client's
multiprocess mode is for workers forked by one parent (gunicorn); Hemicycle's workers are
independent services, so it does not apply.
"""
from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

EVENTS_PUBLISHED = Counter(
    "hemicycle_events_published", "Meeting events emitted to Socket.IO rooms, by type.",
    ["type"], registry=REGISTRY)
BALLOT_BATCH_SIZE = Histogram(
    "hemicycle_ballot_batch_size", "Ballots cast together in one transaction.",
    buckets=(1, 2, 5, 10, 25, 50, 100, 250, 500), registry=REGISTRY)
BALLOT_QUEUE_WAIT = Histogram(
    "hemicycle_ballot_queue_wait_seconds",
    "Time a ballot waited in the queue before its batch was cast.",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10), registry=REGISTRY)
LOGIN_FAILURES = Counter(
    "hemicycle_login_failures", "Refused logins, by reason (bad password, throttled, …).",
    ["reason"], registry=REGISTRY)
BROADCAST_LAG = Histogram(
    "hemicycle_broadcast_lag_seconds",
    "Time from the commit of a meeting event to its emit to the meeting's rooms.",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
    registry=REGISTRY)
RENDERS_IN_PROGRESS = Gauge(
    "hemicycle_document_renders_in_progress",
    "Uploaded document versions whose remaining pages are being rendered in the background.",
    registry=REGISTRY)
