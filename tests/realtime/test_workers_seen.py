""""Workers seen" on the system page: two real workers sharing Redis each record themselves
(address, pid, version) under their deployment's channel, with a TTL, and either worker's
page lists both."""
from __future__ import annotations

import re

import pytest
import redis

from server.models import Role
from server.monitoring import workers as worker_records
from tests import factories
from tests.realtime.clients import login

pytestmark = pytest.mark.live


def rows(html: str) -> list[list[str]]:
    table = re.search(r'<table id="workers">(.*?)</table>', html, re.S)
    assert table, html
    body = table.group(1).split("<tbody>", 1)[1]
    return [re.findall(r"<td>(.*?)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", body)]


def test_each_worker_lists_both(two_workers, redis_url):
    admin = factories.make_user(Role.ADMIN, username="quantri-tientrinh")
    expected = sorted([f"127.0.0.1:{w.port}", str(w.process.pid), "0.1.0"] for w in two_workers)
    for worker in two_workers:
        http = login(worker.url, admin)
        page = http.get(worker.url + "/system?lang=en", timeout=15)
        assert page.status_code == 200, page.text
        listed = rows(page.text)
        assert [row[:3] for row in listed] == expected, listed
        assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", row[3])
                   for row in listed), listed

    client = redis.Redis.from_url(redis_url)
    try:
        keys = sorted(k.decode() for k in client.keys(f"{two_workers.channel}:worker:*"))
        assert keys == sorted(f"{two_workers.channel}:worker:{row[0]}" for row in expected)
        for key in keys:  # a worker that stops is forgotten when its record expires
            assert 0 < client.ttl(key) <= worker_records.TTL_SECONDS
    finally:
        client.close()

