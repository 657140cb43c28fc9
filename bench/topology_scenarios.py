"""bench/topology.py's scenarios with a fault or a database count: votes, kill, pages."""
from __future__ import annotations

import collections
import time

import requests
import sqlalchemy as sa

from bench.run import (
    _wait, hundred_page_pdf, percentile, process_cpu_s, serve_pages, table,
)
from bench.stack import Topology, chair_of, fleet_for, set_item
from tests.live import wait_until


def scenario_votes(topo: Topology, n: int, args) -> dict:
    """N ballots within about a second, through both workers, on PostgreSQL; then every
    acknowledged ballot is looked for in the database."""
    seeded = topo.seed(n, poll_kind="named")
    topo.start()
    fleet = fleet_for(topo, seeded, args.processes)
    chair = None
    try:
        spread = topo.spread()
        chair = chair_of(topo, seeded)
        ack = chair.call("poll.open", {"meeting_id": seeded.meeting_id, "poll_id": seeded.poll_id},
                         timeout=30)
        if not ack.get("ok"):
            raise RuntimeError(f"poll.open refused: {ack}")
        started = time.perf_counter()
        votes = fleet.cast(seeded.poll_id, args.window)
        burst_s = time.perf_counter() - started
    finally:
        if chair is not None:
            chair.disconnect()
        fleet.stop()
    engine = sa.create_engine(seeded.database_url)
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT choices FROM ballot WHERE poll_id = :p"),
                                  {"p": seeded.poll_id}).scalars().all()
    engine.dispose()
    stored = collections.Counter(choice for choices in rows for choice in choices)
    acked = [v for v in votes if v[1]]
    sent = collections.Counter(v[3] for v in acked)
    lost = sum(max(0, sent[c] - stored[c]) for c in sent)
    latencies = [v[0] for v in acked]
    result = {"tablets": n, "spread": spread, "acked": len(acked), "stored": len(rows),
              "lost": lost, "refused": len(votes) - len(acked),
              "stored_by_choice": dict(stored), "acked_by_choice": dict(sent),
              "ack_p50_ms": percentile(latencies, 50), "ack_p99_ms": percentile(latencies, 99),
              "ballots_per_s": round(len(acked) / burst_s, 1)}
    print(f"\n### Topology votes: {n} ballots in about {args.window} s through nginx, two "
          "workers, PostgreSQL\n")
    print(table(["tablets", "per worker", "acked", "stored", "lost", "refused", "ack p50 ms",
                 "ack p99 ms", "ballots/s"],
                [[n, "/".join(map(str, spread)), len(acked), len(rows), lost, result["refused"],
                  result["ack_p50_ms"], result["ack_p99_ms"], result["ballots_per_s"]]]))
    return {"scenario": "votes", "results": [{**result, "missing": lost + result["refused"]}]}


def scenario_kill(topo: Topology, n: int, args) -> dict:
    """kill -9 one worker under N tablets: its tablets reconnect through nginx to the other
    and sync; a change made right after the kill must reach every tablet."""
    seeded = topo.seed(n)
    topo.start()
    chair = chair_of(topo, seeded)
    fleet = fleet_for(topo, seeded, args.processes)
    try:
        for r in range(3):
            set_item(chair, seeded, r)
        time.sleep(1.0)
        spread = topo.spread()
        on_victim = max(spread)  # the worker holding more tablets is killed
        victim = topo.workers[spread.index(on_victim)]
        killed_at = time.time()
        victim.kill()
        # A change right after the kill (the chair reconnects first if it was on the victim).
        # Short tries: a call sent on the dead socket before the client notices would
        # otherwise use up the whole deadline. The tablets' sync is timed from the kill.
        final = wait_until(lambda: _try_set_item(chair, seeded, 3), 90,
                           "the chair's change after the kill", step=0.5)

        def synced() -> bool:
            return all(max([r for _, r in s] + [r for _, r in e] + [0]) >= final
                       for s, e in zip(fleet.syncs(), fleet.results()))

        _wait(synced, 60, 0.25)
        syncs, events, connected = fleet.syncs(), fleet.results(), fleet.connected()
    finally:
        chair.disconnect()
        fleet.stop()
    resynced = [min(t for t, _ in s if t > killed_at) - killed_at
                for s in syncs if any(t > killed_at for t, _ in s)]
    lost = sum(1 for s, e in zip(syncs, events)
               if max([r for _, r in s] + [r for _, r in e] + [0]) < final)
    result = {"tablets": n, "spread_before": spread, "on_killed_worker": on_victim,
              "connected_after": connected,
              "reconnected": len(resynced), "all_synced_s": round(max(resynced, default=0), 2),
              "p50_synced_s": round(percentile(resynced, 50), 2), "lost": lost,
              "final_revision": final, "survivor": topo.spread()}
    print(f"\n### Topology kill: one worker killed -9 under {n} tablets\n")
    print(table(["tablets", "connections per worker before", "reconnected and synced",
                 "p50 synced s", "all synced s", "connected after", "missed the change after the kill"],
                [[n, "/".join(map(str, spread)), len(resynced), result["p50_synced_s"],
                  result["all_synced_s"], connected, lost]]))
    missing = lost + (n - connected)  # every tablet connected again, none missed the change
    return {"scenario": "kill", "results": [{**result, "missing": missing}]}


def _try_set_item(chair, seeded, n: int) -> int | None:
    try:
        return set_item(chair, seeded, n, timeout=5) if chair.connected else None
    except Exception:  # disconnected, or not yet reconnected: try again
        return None


ROUNDS = 5


def _summed(runs: list[dict], seconds: float) -> dict:
    """Rounds of ``serve_pages`` as one run of ``seconds``."""
    pages = sum(run["pages_per_s"] for run in runs) * seconds / len(runs)
    mb = sum(run["mb_per_s"] for run in runs) * seconds / len(runs)
    return {"pages_per_s": round(pages / seconds, 1), "mb_per_s": round(mb / seconds, 1),
            "failures": sum(run["failures"] for run in runs),
            "served": sum(run["served"] for run in runs)}


def scenario_pages(topo: Topology, n: int, args) -> dict:
    """The page images of an uploaded PDF fetched by 32 tablets (a token each) through the
    page route (nginx asks the worker once per tablet and version, keeps the answer and sends
    the files: docs/DEPLOYMENT.md, "Page images") against nginx serving the same files
    statically."""
    seeded = topo.seed(n)
    topo.start()
    http = requests.Session()
    username, password = seeded.secretary
    login = http.post(topo.url + "/api/v1/auth/login",
                      json={"username": username, "password": password}, timeout=30)
    login.raise_for_status()
    answer = http.post(f"{topo.url}/api/v1/meetings/{seeded.meeting_id}/documents",
                       files={"file": ("du-thao.pdf", hundred_page_pdf(args.pages),
                                       "application/pdf")},
                       data={"title": "Dự thảo"}, headers={"X-CSRFToken": login.json()["csrf_token"]},
                       timeout=300)
    answer.raise_for_status()
    version = answer.json()["document"]["current_version"]
    document_id, sha = answer.json()["document"]["id"], version["sha256"]

    def rendered() -> int:
        body = http.get(f"{topo.url}/api/v1/documents/{document_id}", timeout=30).json()
        return (body.get("current_version") or {}).get("pages_rendered", 0)

    _wait(lambda: rendered() >= args.pages, 300, 0.5)
    pages = range(1, args.pages + 1)
    routed = [f"{topo.url}/api/v1/documents/{document_id}/versions/{version['number']}/pages/"
              f"{p}.jpg" for p in pages]
    static = [f"{topo.static_url}{sha[:2]}/{sha}/{p}-large.jpg" for p in pages]
    seconds = getattr(args, "seconds", 3.0)
    cpu = [process_cpu_s(w.process.pid) for w in topo.workers]
    tablets = [{"Authorization": f"Bearer {token}"} for token in seeded.tablet_tokens[:32]]
    # Interleaved in short rounds, so a neighbour's burst on the shared machine falls on all
    # three alike.
    runs = {"routed": [], "linked": [], "static": [], "open": []}
    opened_urls = [url.replace("/static/", "/static-open/") for url in static]
    # The page link a tablet asks for once per version (docs/DEPLOYMENT.md, "Page images"),
    # good for HEMICYCLE_PAGE_LINK_SECONDS (30 s: longer than the rounds below).
    access = requests.get(f"{topo.url}/api/v1/documents/{document_id}/versions/"
                          f"{version['number']}/pages/access", headers=tablets[0], timeout=30)
    link = access.headers.get("X-Hemicycle-Page-Link")
    if access.status_code != 204 or not link:
        raise RuntimeError(f"no page link from the workers: {access.status_code} {access.headers}")
    linked = [f"{url}?size=large&{link}" for url in routed]
    for _ in range(ROUNDS):
        runs["routed"].append(serve_pages(routed, tablets, seconds / ROUNDS))
        runs["linked"].append(serve_pages(linked, tablets, seconds / ROUNDS))
        runs["static"].append(serve_pages(static, {}, seconds / ROUNDS))
        runs["open"].append(serve_pages(opened_urls, {}, seconds / ROUNDS))
    accel, by_link, plain, opened = (_summed(runs[kind], seconds)
                                     for kind in ("routed", "linked", "static", "open"))
    worker_cpu_ms = sum(process_cpu_s(w.process.pid) - c for w, c in zip(topo.workers, cpu)) * 1000

    def ratio(served: dict, against: dict):
        return round(served["pages_per_s"] / against["pages_per_s"], 2) if against["pages_per_s"] else None

    served = accel["served"] + by_link["served"]
    result = {"tablets": n, "pages": args.pages, "accel": accel, "linked": by_link,
              "static": plain, "static_open": opened, "ratio": ratio(accel, plain),
              "ratio_open": ratio(accel, opened), "ratio_linked": ratio(by_link, plain),
              "ratio_linked_open": ratio(by_link, opened),
              "worker_cpu_ms_per_page": round(worker_cpu_ms / max(1, served), 3),
              "missing": sum(run["failures"] for run in (accel, by_link, plain, opened))}
    print(f"\n### Topology pages: {args.pages} cached page images, 32 concurrent clients "
          f"({len(tablets)} tablet tokens), through nginx\n")
    print(table(["pages", "routed pages/s", "ratio", "linked pages/s", "linked MB/s", "ratio",
                 "static pages/s", "static + open_file_cache pages/s", "linked ratio to it",
                 "worker CPU ms per page", "failures"],
                [[args.pages, accel["pages_per_s"], result["ratio"], by_link["pages_per_s"],
                  by_link["mb_per_s"], result["ratio_linked"], plain["pages_per_s"],
                  opened["pages_per_s"], result["ratio_linked_open"],
                  result["worker_cpu_ms_per_page"], result["missing"]]]))
    return {"scenario": "pages", "results": [result]}
