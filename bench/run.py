"""Hemicycle benchmarks, each against a bare Flask-SocketIO baseline run side by side.

    .venv/bin/python -m bench.run fanout --tablets 100,500,1000
    .venv/bin/python -m bench.run memory --tablets 1000
    .venv/bin/python -m bench.run modes --tablets 500
    .venv/bin/python -m bench.run smoke            # a few tablets, every scenario (CI)

Each scenario prints a Markdown table and writes JSON to bench/results/.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import socketio

from bench.fixtures import BaselineServer, rss_kib, seed_meeting, start_hemicycle
from bench.tablets import TabletFleet
from server.cli.serve import raise_file_limit

RESULTS = Path(__file__).parent / "results"


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def measure_rounds(fleet: TabletFleet, trigger, rounds: int, gap: float) -> dict:
    """Trigger ``rounds`` changes ``gap`` seconds apart; latency = first receipt after the trigger."""
    starts = []
    time.sleep(1.0)  # let connection-time traffic settle
    for n in range(rounds):
        starts.append(time.time())
        trigger(n)
        time.sleep(gap)
    return round_latencies(fleet.results(), starts)


def round_latencies(times: list[list[tuple[float, int]]], starts: list[float]) -> dict:
    """Each tablet's latency in each round: its first receipt after the round's start and
    before the next round's; a round a tablet saw nothing of counts as missing."""
    latencies, lasts, missing = [], [], 0
    for index, t0 in enumerate(starts):
        t1 = starts[index + 1] if index + 1 < len(starts) else float("inf")
        this_round = []
        for tablet in times:
            hits = [t for t, _rev in tablet if t0 <= t < t1]
            if hits:
                this_round.append((min(hits) - t0) * 1000)
            else:
                missing += 1
        latencies += this_round
        if this_round:
            lasts.append(max(this_round))
    return {
        "rounds": len(starts),
        "deliveries": len(latencies),
        "missing": missing,
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
        "last_tablet_ms": statistics.median(lasts) if lasts else float("nan"),
    }


def item_changed(n: int) -> dict:
    """The payload of Hemicycle's ``item.changed`` (services/session/session.py), so the baseline
    broadcasts a message of the same shape and size (~340 bytes on the wire)."""
    at = "2026-11-25T09:00:00.000000+00:00"
    return {"current_item_id": n + 2, "previous_item_id": n + 1, "previous_done_at": at,
            "title": f"Mục {n + 2}",
            "timer": {"item_id": n + 2, "started_at": None, "elapsed_seconds": 0,
                      "running_since": None, "planned_minutes": None}}


def run_baseline(tablets: int, mode: str, rounds: int, gap: float, processes: int) -> dict:
    server = BaselineServer(mode).start()
    fleet = TabletFleet(server.url, [None] * tablets, processes)
    try:
        fleet.wait_ready()
        driver = socketio.Client()
        driver.connect(server.url, transports=["websocket"])
        result = measure_rounds(fleet, lambda n: driver.call("trigger", item_changed(n)),
                                rounds, gap)
        driver.disconnect()
        return result
    finally:
        fleet.stop()
        server.stop()


def run_hemicycle(tablets: int, mode: str, rounds: int, gap: float, processes: int,
                  with_memory: bool = False) -> dict:
    with tempfile.TemporaryDirectory(prefix="hemicycle-bench-", ignore_cleanup_errors=True) as tmp:
        data = Path(tmp)
        seeded = seed_meeting(data, tablets)
        server = start_hemicycle(data, seeded.database_url, mode)
        try:
            rss_before = rss_kib(server.process.pid)
            fleet = TabletFleet(server.url, [{"token": t} for t in seeded.tablet_tokens], processes,
                                meeting_id=seeded.meeting_id)
            try:
                fleet.wait_ready()
                time.sleep(1.0)
                rss_after = rss_kib(server.process.pid)
                chair = socketio.Client()
                chair.connect(server.url, auth={"token": seeded.chair_token}, transports=["websocket"])

                def trigger(n):
                    item = seeded.item_ids[n % len(seeded.item_ids)]
                    ack = chair.call("item.set", {"meeting_id": seeded.meeting_id, "item_id": item},
                                     timeout=30)
                    if not ack.get("ok"):
                        raise RuntimeError(f"item.set refused: {ack}")

                result = measure_rounds(fleet, trigger, rounds, gap)
                chair.disconnect()
                if with_memory:
                    result["rss_before_kib"] = rss_before
                    result["rss_after_kib"] = rss_after
                    result["kib_per_tablet"] = round((rss_after - rss_before) / max(tablets, 1), 1)
                return result
            finally:
                fleet.stop()
        finally:
            server.stop()


def table(headers: list[str], rows: list[list]) -> str:
    def fmt(value):
        return f"{value:.1f}" if isinstance(value, float) else str(value)

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def scenario_fanout(counts, mode, rounds, gap, processes) -> dict:
    rows, data = [], []
    for n in counts:
        base = run_baseline(n, mode, rounds, gap, processes)
        hemi = run_hemicycle(n, mode, rounds, gap, processes)
        ratio = hemi["p99_ms"] / base["p99_ms"] if base["p99_ms"] else float("nan")
        rows.append([n, hemi["p50_ms"], hemi["p99_ms"], hemi["last_tablet_ms"], base["p50_ms"],
                     base["p99_ms"], base["last_tablet_ms"], round(ratio, 2),
                     hemi["missing"] + base["missing"]])
        data.append({"tablets": n, "hemicycle": hemi, "baseline": base, "p99_ratio": ratio})
    print(f"\n### Fan-out: a current-item change to N tablets ({mode}, {rounds} rounds)\n")
    print(table(["tablets", "p50 ms", "p99 ms", "last tablet ms", "baseline p50", "baseline p99",
                 "baseline last", "p99 ratio", "missing"], rows))
    return {"scenario": "fanout", "mode": mode, "results": data}


def scenario_memory(counts, mode, rounds, gap, processes) -> dict:
    rows, data = [], []
    for n in counts:
        hemi = run_hemicycle(n, mode, 2, gap, processes, with_memory=True)
        rows.append([n, hemi["rss_before_kib"], hemi["rss_after_kib"], hemi["kib_per_tablet"]])
        data.append({"tablets": n, **hemi})
    print(f"\n### Memory: server RSS per connected tablet ({mode})\n")
    print(table(["tablets", "RSS before KiB", "RSS connected KiB", "KiB per tablet"], rows))
    return {"scenario": "memory", "mode": mode, "results": data}


def scenario_modes(counts, mode, rounds, gap, processes) -> dict:
    rows, data = [], []
    n = counts[-1]
    for each in ("eventlet", "gevent", "threading"):
        hemi = run_hemicycle(n, each, rounds, gap, processes)
        base = run_baseline(n, each, rounds, gap, processes)
        rows.append([each, n, hemi["p50_ms"], hemi["p99_ms"], base["p99_ms"],
                     round(hemi["p99_ms"] / base["p99_ms"], 2) if base["p99_ms"] else "n/a",
                     hemi["missing"]])
        data.append({"mode": each, "tablets": n, "hemicycle": hemi, "baseline": base})
    print(f"\n### Async modes: fan-out to {n} tablets\n")
    print(table(["mode", "tablets", "p50 ms", "p99 ms", "baseline p99", "ratio", "missing"], rows))
    return {"scenario": "modes", "results": data}


def _wait(predicate, timeout: float, step: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


def meeting_revision(seeded) -> int:
    import sqlalchemy as sa

    engine = sa.create_engine(seeded.database_url)
    try:
        with engine.connect() as connection:
            return connection.execute(sa.text("SELECT revision FROM meeting WHERE id = :id"),
                                      {"id": seeded.meeting_id}).scalar_one()
    finally:
        engine.dispose()


def run_reconnect(tablets: int, mode: str, processes: int) -> dict:
    """Restart the server under N connected tablets; time until all are synced again."""
    with tempfile.TemporaryDirectory(prefix="hemicycle-bench-", ignore_cleanup_errors=True) as tmp:
        data = Path(tmp)
        seeded = seed_meeting(data, tablets)
        server = start_hemicycle(data, seeded.database_url, mode)
        fleet = TabletFleet(server.url, [{"token": t} for t in seeded.tablet_tokens], processes,
                            meeting_id=seeded.meeting_id)
        chair = socketio.Client(reconnection=True, reconnection_delay=0.5)
        try:
            fleet.wait_ready()
            chair.connect(server.url, auth={"token": seeded.chair_token}, transports=["websocket"])
            for n in range(3):
                chair.call("item.set", {"meeting_id": seeded.meeting_id,
                                        "item_id": seeded.item_ids[n % 3]}, timeout=30)
            time.sleep(1)
            restarted_at = time.time()
            server.stop()
            server.start(timeout=60)
            server_ready = time.time() - restarted_at
            # A change made right after the restart: every tablet must end up with it.
            _wait(lambda: chair.connected, 30)
            ack = chair.call("item.set", {"meeting_id": seeded.meeting_id,
                                          "item_id": seeded.item_ids[0]}, timeout=30)
            if not (isinstance(ack, dict) and ack.get("ok")):
                raise RuntimeError(f"item.set after the restart failed: {ack}")
            final_revision = meeting_revision(seeded)

            def caught_up():
                syncs = fleet.syncs()
                events = fleet.results()
                return all(
                    any(t > restarted_at for t, _ in s) and
                    max([r for _, r in s] + [r for _, r in e]) >= (final_revision or 0)
                    for s, e in zip(syncs, events))

            _wait(caught_up, 60, 0.5)
            syncs, events = fleet.syncs(), fleet.results()
            resync = [min((t for t, _ in s if t > restarted_at), default=float("nan")) - restarted_at
                      for s in syncs]
            lost = sum(1 for s, e in zip(syncs, events)
                       if max([r for _, r in s] + [r for _, r in e] + [0]) < (final_revision or 0))
            valid = [r for r in resync if r == r]
            return {"tablets": tablets, "server_ready_s": round(server_ready, 2),
                    "all_synced_s": round(max(valid), 2) if len(valid) == tablets else float("nan"),
                    "p50_synced_s": round(percentile(valid, 50), 2), "not_synced": tablets - len(valid),
                    "lost": lost, "final_revision": final_revision}
        finally:
            chair.disconnect()
            fleet.stop()
            server.stop()


def scenario_reconnect(counts, mode, rounds, gap, processes) -> dict:
    rows, data = [], []
    for n in counts:
        result = run_reconnect(n, mode, processes)
        rows.append([n, result["server_ready_s"], result["p50_synced_s"], result["all_synced_s"],
                     result["not_synced"], result["lost"]])
        data.append(result)
    print(f"\n### Reconnect storm: restart the server under N tablets ({mode})\n")
    print(table(["tablets", "server back s", "p50 synced s", "all synced s", "not synced",
                 "missed last change"], rows))
    return {"scenario": "reconnect", "mode": mode,
            "results": [{**r, "missing": r["lost"] + r["not_synced"]} for r in data]}


def run_vote_burst(tablets: int, mode: str, processes: int, window: float, kind: str) -> dict:
    """N ballots within about ``window`` seconds, then close and publish; the tally is timed
    on a projector connection."""
    import threading

    import sqlalchemy as sa

    with tempfile.TemporaryDirectory(prefix="hemicycle-bench-", ignore_cleanup_errors=True) as tmp:
        data = Path(tmp)
        seeded = seed_meeting(data, tablets, poll_kind=kind)
        server = start_hemicycle(data, seeded.database_url, mode)
        fleet = TabletFleet(server.url, [{"token": t} for t in seeded.tablet_tokens], processes,
                            meeting_id=seeded.meeting_id)
        chair = socketio.Client()
        projector = socketio.Client()
        tallied = threading.Event()
        shown = {}

        def on_projector_event(message):
            if message.get("type") == "poll.published" and not tallied.is_set():
                shown["at"] = time.perf_counter()
                shown["payload"] = message.get("payload")
                tallied.set()

        projector.on("event", on_projector_event)
        try:
            fleet.wait_ready()
            chair.connect(server.url, auth={"token": seeded.chair_token}, transports=["websocket"])
            projector.connect(server.url, auth={"token": seeded.projector_token},
                              transports=["websocket"])
            command = {"meeting_id": seeded.meeting_id, "poll_id": seeded.poll_id}
            ack = chair.call("poll.open", command, timeout=30)
            if not ack.get("ok"):
                raise RuntimeError(f"poll.open refused: {ack}")
            started = time.perf_counter()
            votes = fleet.cast(seeded.poll_id, window)
            burst_s = time.perf_counter() - started
            closing = time.perf_counter()
            for name in ("poll.close", "poll.publish"):
                ack = chair.call(name, command, timeout=30)
                if not ack.get("ok"):
                    raise RuntimeError(f"{name} refused: {ack}")
            tallied.wait(30)
            close_to_tally_ms = (shown["at"] - closing) * 1000 if "at" in shown else float("nan")
            engine = sa.create_engine(seeded.database_url)
            with engine.connect() as connection:
                stored = connection.execute(sa.text("SELECT count(*) FROM ballot WHERE poll_id = :p"),
                                            {"p": seeded.poll_id}).scalar_one()
            engine.dispose()
            acked = [v for v in votes if v[1]]
            latencies = [v[0] for v in acked]
            return {"tablets": tablets, "kind": kind, "acked": len(acked), "stored": stored,
                    "lost": len(acked) - stored if stored <= len(acked) else 0,
                    "refused": len(votes) - len(acked),
                    "ack_p50_ms": percentile(latencies, 50), "ack_p99_ms": percentile(latencies, 99),
                    "ballots_per_s": round(len(acked) / burst_s, 1),
                    "close_to_tally_ms": close_to_tally_ms}
        finally:
            for client in (chair, projector):
                if client.connected:
                    client.disconnect()
            fleet.stop()
            server.stop()


def scenario_votes(counts, mode, rounds, gap, processes) -> dict:
    rows, data = [], []
    for n in counts:
        for kind in ("named", "secret"):
            result = run_vote_burst(n, mode, processes, window=1.0, kind=kind)
            rows.append([n, kind, result["acked"], result["stored"], result["refused"],
                         result["ack_p50_ms"], result["ack_p99_ms"], result["ballots_per_s"],
                         result["close_to_tally_ms"]])
            data.append({**result, "missing": result["lost"] + result["refused"]})
    print(f"\n### Vote burst: N ballots in about one second ({mode})\n")
    print(table(["tablets", "poll", "acked", "stored", "refused", "ack p50 ms", "ack p99 ms",
                 "ballots/s", "close to tally on projector ms"], rows))
    return {"scenario": "votes", "mode": mode, "results": data}


def hundred_page_pdf(pages: int = 100) -> bytes:
    import pymupdf

    document = pymupdf.open()
    for number in range(1, pages + 1):
        page = document.new_page(width=595, height=842)
        page.insert_text((72, 72), f"Trang {number}: Dự thảo nghị quyết", fontsize=16)
        for line in range(40):
            page.insert_text((72, 110 + line * 17), f"Điều {line + 1}. Nội dung của điều khoản "
                             f"số {line + 1} trên trang {number}.", fontsize=10)
    return document.tobytes(garbage=3, deflate=True)


def run_document_push(tablets: int, mode: str, processes: int, pages: int = 100) -> dict:
    """Upload a PDF, push it to N tablets: time until every tablet shows page 1, and until
    every page is rendered for tablets."""
    import requests

    with tempfile.TemporaryDirectory(prefix="hemicycle-bench-", ignore_cleanup_errors=True) as tmp:
        data = Path(tmp)
        seeded = seed_meeting(data, tablets)
        server = start_hemicycle(data, seeded.database_url, mode)
        fleet = TabletFleet(server.url, [{"token": t} for t in seeded.tablet_tokens], processes,
                            meeting_id=seeded.meeting_id)
        try:
            fleet.wait_ready()
            http = requests.Session()
            username, password = seeded.secretary
            login = http.post(server.url + "/api/v1/auth/login",
                              json={"username": username, "password": password}, timeout=30)
            login.raise_for_status()
            csrf = {"X-CSRFToken": login.json()["csrf_token"]}
            pdf = hundred_page_pdf(pages)
            uploading = time.perf_counter()
            answer = http.post(f"{server.url}/api/v1/meetings/{seeded.meeting_id}/documents",
                               files={"file": ("du-thao-nghi-quyet.pdf", pdf, "application/pdf")},
                               data={"title": "Dự thảo nghị quyết"}, headers=csrf, timeout=120)
            answer.raise_for_status()
            uploaded_s = time.perf_counter() - uploading
            document_id = answer.json()["document"]["id"]
            pushed_at = time.time()
            http.post(f"{server.url}/api/v1/meetings/{seeded.meeting_id}/push",
                      json={"document_id": document_id}, headers=csrf, timeout=30).raise_for_status()

            def rendered() -> int:
                body = http.get(f"{server.url}/api/v1/documents/{document_id}", timeout=30).json()
                return (body.get("current_version") or {}).get("pages_rendered", 0)

            _wait(lambda: all(p is not None for p in fleet.first_pages()), 60, 0.2)
            first = fleet.first_pages()
            shown = [(t - pushed_at) * 1000 for t, status in (p for p in first if p) if status == 200]
            _wait(lambda: rendered() >= pages, 120, 0.5)
            all_ready_s = time.perf_counter() - uploading
            serving = page_serving(server.url, seeded.tablet_tokens[0], document_id,
                                   answer.json()["document"]["current_version"]["number"], pages,
                                   mode, server.process.pid)
            return {"serving": serving, "tablets": tablets, "pages": pages, "upload_s": round(uploaded_s, 2),
                    "first_page_p50_ms": percentile(shown, 50),
                    "first_page_p99_ms": percentile(shown, 99),
                    "first_page_all_ms": max(shown) if len(shown) == tablets else float("nan"),
                    "tablets_without_page": tablets - len(shown),
                    "all_pages_ready_s": round(all_ready_s, 1), "pages_rendered": rendered()}
        finally:
            fleet.stop()
            server.stop()


def serve_pages(urls: list[str], headers: dict | list[dict], seconds: float = 3.0,
                concurrency: int = 32) -> dict:
    """Fetch page images as fast as ``concurrency`` clients can for ``seconds``; with a list
    of ``headers``, client i sends the i-th (cyclically): one tablet's token each."""
    each = headers if isinstance(headers, list) else [headers]
    import asyncio

    import aiohttp

    async def run():
        done, sizes, failures = 0, 0, 0
        deadline = time.perf_counter() + seconds

        async def worker(offset: int, http):
            nonlocal done, sizes, failures
            index = offset
            while time.perf_counter() < deadline:
                async with http.get(urls[index % len(urls)],
                                    headers=each[offset % len(each)]) as response:
                    body = await response.read()
                    if response.status == 200:
                        done, sizes = done + 1, sizes + len(body)
                    else:
                        failures += 1
                index += concurrency

        async with aiohttp.ClientSession() as http:
            started = time.perf_counter()
            await asyncio.gather(*[worker(i, http) for i in range(concurrency)])
            elapsed = time.perf_counter() - started
        return {"pages_per_s": round(done / elapsed, 1), "mb_per_s": round(sizes / elapsed / 1e6, 1),
                "failures": failures, "served": done + failures}

    return asyncio.run(run())


def process_cpu_s(pid: int) -> float:
    """CPU time (user + system) a process has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def serve_pages_measured(pid: int, urls: list[str], headers: dict) -> dict:
    """``serve_pages``, plus the server's CPU time per page served: unlike pages/s, it hardly
    depends on what else the machine's cores are doing."""
    before = process_cpu_s(pid)
    result = serve_pages(urls, headers)
    served = max(1, result.pop("served"))
    return {**result, "server_cpu_ms_per_page": round((process_cpu_s(pid) - before) / served * 1000, 3)}


def page_serving(server_url: str, token: str, document_id: int, number: int, pages: int,
                 mode: str, server_pid: int) -> dict:
    urls = [f"{server_url}/api/v1/documents/{document_id}/versions/{number}/pages/{p}.jpg"
            for p in range(1, pages + 1)]
    hemi = serve_pages_measured(server_pid, urls, {"Authorization": f"Bearer {token}"})
    baseline = BaselineServer(mode).start()
    try:
        base = serve_pages_measured(baseline.process.pid, [baseline.url + "/page.jpg"], {})
    finally:
        baseline.stop()
    return {"hemicycle": hemi, "baseline": base,
            "ratio": round(hemi["pages_per_s"] / base["pages_per_s"], 2) if base["pages_per_s"] else None}


def scenario_documents(counts, mode, rounds, gap, processes) -> dict:
    rows, data = [], []
    for n in counts:
        pages = 100 if n > 10 else 10
        result = run_document_push(n, mode, processes, pages)
        rows.append([n, result["pages"], result["upload_s"], result["first_page_p50_ms"],
                     result["first_page_p99_ms"], result["first_page_all_ms"],
                     result["tablets_without_page"], result["all_pages_ready_s"]])
        data.append({**result, "missing": result["tablets_without_page"]})
    print(f"\n### Document push: a PDF pushed to N tablets ({mode})\n")
    print(table(["tablets", "pages", "upload s", "first page p50 ms", "first page p99 ms",
                 "first page on all ms", "tablets without it", "all pages ready s (from upload)"],
                rows))
    print(f"\n### Page serving: cached page images, 32 concurrent clients ({mode})\n")
    print(table(["tablets", "pages/s", "MB/s", "baseline pages/s (bare Flask, bytes in memory)",
                 "ratio", "failures", "server CPU ms per page", "baseline CPU ms per page"],
                [[d["tablets"], d["serving"]["hemicycle"]["pages_per_s"],
                  d["serving"]["hemicycle"]["mb_per_s"], d["serving"]["baseline"]["pages_per_s"],
                  d["serving"]["ratio"], d["serving"]["hemicycle"]["failures"],
                  d["serving"]["hemicycle"]["server_cpu_ms_per_page"],
                  d["serving"]["baseline"]["server_cpu_ms_per_page"]] for d in data]))
    return {"scenario": "documents", "mode": mode, "results": data}


SCENARIOS = {"fanout": scenario_fanout, "memory": scenario_memory, "modes": scenario_modes,
             "reconnect": scenario_reconnect, "votes": scenario_votes,
             "documents": scenario_documents}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenario", choices=[*SCENARIOS, "smoke", "all"])
    parser.add_argument("--tablets", default="100,500,1000")
    parser.add_argument("--mode", default="eventlet", choices=["eventlet", "gevent", "threading"])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--gap", type=float, default=1.0, help="seconds between changes")
    parser.add_argument("--processes", type=int, default=2, help="tablet processes")
    args = parser.parse_args(argv)
    raise_file_limit(minimum=4096)
    counts = [int(c) for c in args.tablets.split(",")]
    if args.scenario == "smoke":
        names, counts, args.rounds, args.gap = list(SCENARIOS), [5], 2, 0.5
    elif args.scenario == "all":
        names = list(SCENARIOS)
    else:
        names = [args.scenario]
    RESULTS.mkdir(exist_ok=True)
    failures = 0
    for name in names:
        result = SCENARIOS[name](counts, args.mode, args.rounds, args.gap, args.processes)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        (RESULTS / f"{name}-{stamp}.json").write_text(json.dumps(result, indent=2))
        failures += sum(r.get("hemicycle", r).get("missing", 0) for r in result["results"])
    if failures:
        print(f"\n{failures} deliveries missing", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
