"""/metrics on a real server: parsed with prometheus_client's own parser, numbers that move
when a tablet connects, a ballot is cast and a login fails; the token guards it."""
from __future__ import annotations

import uuid

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from server import create_app
from server.extensions import db
from server.models import Base
from tests import conftest
from tests.faults.room import create_poll, seat
from tests.faults.tablets import Tablet
from tests.realtime.clients import login
from tests.realtime.conftest import start_live

pytestmark = pytest.mark.live
TOKEN = "metrics-token-for-the-scraper"


def scrape(url: str) -> dict[tuple[str, tuple], float]:
    answer = requests.get(url + "/metrics", headers={"Authorization": f"Bearer {TOKEN}"},
                          timeout=15)
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"].startswith("text/plain")
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(answer.text)
            for sample in family.samples}


def value(samples, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def live(tmp_path):
    env, context = start_live(tmp_path, env={"HEMICYCLE_METRICS_TOKEN": TOKEN})
    yield env
    env.server.stop()
    db.session.remove()
    context.pop()


def test_metrics_move_with_tablets_ballots_and_failed_logins(live):
    seeded, tokens = seat(2)
    mid = str(seeded.meeting.id)
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        answer = requests.get(live.url + "/metrics", headers=headers, timeout=15)
        assert answer.status_code == 401 and answer.json()["error"]["code"] == \
            "metrics_token_required"

    before = scrape(live.url)
    assert value(before, "hemicycle_database_up") == 1
    assert value(before, "hemicycle_connections", kind="tablet", meeting=mid) == 0
    assert value(before, "hemicycle_info", version="0.1.0") == 1

    poll_id = create_poll(live.url, seeded, "Biểu quyết thử")
    chair = login(live.url, seeded.chair_user)
    assert chair.post(f"{live.url}/api/v1/polls/{poll_id}/open", timeout=15).ok
    tablet = Tablet(live.url, tokens[0], seeded.meeting.id)
    tablet.connect()
    try:
        connected = scrape(live.url)
        assert value(connected, "hemicycle_connections", kind="tablet", meeting=mid) == 1
        answer = tablet.call("ballot.cast", {"meeting_id": seeded.meeting.id, "poll_id": poll_id,
                                             "ballot_id": str(uuid.uuid4()), "choices": ["yes"]})
        assert answer["ok"], answer
    finally:
        tablet.close()
    refused = requests.post(live.url + "/api/v1/auth/login", timeout=15,
                            json={"username": seeded.chair_user.username, "password": "sai-roi"})
    assert refused.status_code == 401

    after = scrape(live.url)
    for name in ("hemicycle_ballot_batch_size_count", "hemicycle_ballot_queue_wait_seconds_count"):
        assert value(after, name) == value(before, name) + 1, name
    assert value(after, "hemicycle_ballot_batch_size_sum") >= 1
    published = [(k, v) for k, v in after.items() if k[0] == "hemicycle_events_published_total"]
    assert sum(v for _, v in published) > sum(
        v for k, v in before.items() if k[0] == "hemicycle_events_published_total")
    assert any(dict(k[1]).get("type") == "poll.opened" for k, _ in published), published
    failures = sum(v for k, v in after.items() if k[0] == "hemicycle_login_failures_total")
    assert failures == sum(v for k, v in before.items()
                           if k[0] == "hemicycle_login_failures_total") + 1

    # An agenda change is committed, then emitted: the lag histogram counts its emit.
    lag = "hemicycle_broadcast_lag_seconds"
    secretary = login(live.url, seeded.secretary_user)
    added = secretary.post(f"{live.url}/api/v1/meetings/{mid}/agenda", timeout=15,
                       json={"title": "Mục bổ sung"})
    assert added.status_code == 201, added.text
    changed = scrape(live.url)
    agenda_emits = sum(v - value(after, k[0], **dict(k[1])) for k, v in changed.items()
                       if k[0] == "hemicycle_events_published_total"
                       and dict(k[1]).get("type", "").startswith("agenda."))
    all_emits = sum(v - value(after, k[0], **dict(k[1])) for k, v in changed.items()
                    if k[0] == "hemicycle_events_published_total")
    assert agenda_emits >= 1, changed
    assert value(changed, lag + "_count") == value(after, lag + "_count") + all_emits
    assert value(changed, lag + "_sum") >= value(after, lag + "_sum")
    assert value(changed, lag + "_bucket", le="+Inf") == value(changed, lag + "_count")
    assert value(changed, "hemicycle_document_renders_in_progress") == 0


def test_metrics_are_off_without_a_token(client):
    answer = client.get("/metrics")
    assert answer.status_code == 404 and answer.get_json()["error"]["code"] == "not_found"


def test_redis_health_is_reported(tmp_path, redis_url):
    for url, expected in ((redis_url, 1), ("redis://127.0.0.1:1/0", 0)):
        app = create_app(conftest.test_config(tmp_path, METRICS_TOKEN=TOKEN, REDIS_URL=url))
        with app.app_context():
            Base.metadata.create_all(db.engine)
            answer = app.test_client().get("/metrics",
                                           headers={"Authorization": f"Bearer {TOKEN}"})
            db.session.remove()
        assert answer.status_code == 200
        samples = {s.name: s.value for f in text_string_to_metric_families(answer.text)
                   for s in f.samples}
        assert samples["hemicycle_redis_up"] == expected
        assert samples["hemicycle_database_up"] == 1
