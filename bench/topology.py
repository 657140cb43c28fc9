"""The production topology under load (docs/DEPLOYMENT.md), against its baseline in the same run.

    .venv/bin/python -m bench.topology fanout --tablets 2000
    .venv/bin/python -m bench.topology meetings --tablets 2000     # 10 meetings x 200
    .venv/bin/python -m bench.topology votes --tablets 2000
    .venv/bin/python -m bench.topology kill --tablets 2000
    .venv/bin/python -m bench.topology pages --tablets 1000 --pages 100
    .venv/bin/python -m bench.topology smoke                        # every scenario, 5 tablets

Each run starts, as their own processes: nginx with the DEPLOYMENT.md configuration, two
``hemicycle serve`` workers on a scratch PostgreSQL database and a private Redis, and two
bare Flask-SocketIO workers on the same Redis behind the same nginx (bench/stack.py).
Tablets connect through nginx, each from a loopback address of its own, so the proxy's
stickiness spreads them over the workers. Prints Markdown tables; writes JSON to
bench/results/.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import socketio

from bench import topology_scenarios
from bench.run import RESULTS, item_changed, measure_rounds, round_latencies, table
from bench.stack import Topology, chair_of, check_file_limit, fleet_for, set_item
from bench.tablets import TabletFleet, source_addresses


def scenario_fanout(topo: Topology, n: int, args) -> dict:
    """One meeting of N tablets over both workers; the baseline's broadcast to N tablets."""
    seeded = topo.seed(n)
    topo.start()
    rss_idle = topo.rss_kib()
    fleet = fleet_for(topo, seeded, args.processes)
    try:
        time.sleep(1.0)
        spread, rss = topo.spread(), topo.rss_kib()
        chair = chair_of(topo, seeded)
        hemi = measure_rounds(fleet, lambda r: set_item(chair, seeded, r), args.rounds, args.gap)
        chair.disconnect()
    finally:
        fleet.stop()
    per_tablet = [round((after - before) / max(1, count), 1)
                  for before, after, count in zip(rss_idle, rss, spread)]
    base_fleet = TabletFleet(topo.baseline_url, [None] * n, args.processes,
                             sources=source_addresses(n))
    try:
        base_fleet.wait_ready()
        base_spread = topo.spread(baseline=True)
        driver = socketio.Client()
        driver.connect(topo.baseline_url, transports=["websocket"])
        base = measure_rounds(base_fleet, lambda r: driver.call("trigger", item_changed(r)),
                              args.rounds, args.gap)
        driver.disconnect()
    finally:
        base_fleet.stop()
    ratio = round(hemi["p99_ms"] / base["p99_ms"], 2) if base["p99_ms"] else float("nan")
    print(f"\n### Topology fan-out: a current-item change to {n} tablets through nginx, "
          f"two workers ({args.rounds} rounds)\n")
    print(table(["tablets", "per worker", "p50 ms", "p99 ms", "last tablet ms", "baseline p50",
                 "baseline p99", "baseline per worker", "p99 ratio", "missing",
                 "KiB per tablet per worker"],
                [[n, "/".join(map(str, spread)), hemi["p50_ms"], hemi["p99_ms"],
                  hemi["last_tablet_ms"], base["p50_ms"], base["p99_ms"],
                  "/".join(map(str, base_spread)), ratio, hemi["missing"] + base["missing"],
                  "/".join(map(str, per_tablet))]]))
    return {"scenario": "fanout", "results": [{
        "tablets": n, "spread": spread, "baseline_spread": base_spread, "hemicycle": hemi,
        "baseline": base, "p99_ratio": ratio, "kib_per_tablet_per_worker": per_tablet,
        "missing": hemi["missing"] + base["missing"]}]}


def scenario_meetings(topo: Topology, n: int, args) -> dict:
    """10 meetings of N/10 tablets: each meeting's changes alone, then all ten at once."""
    count = max(1, min(10, n))
    per = max(1, n // count)
    meetings = [topo.seed(per) for _ in range(count)]
    topo.start()
    tokens = [(m, t) for m in meetings for t in m.tablet_tokens]
    fleet = TabletFleet(topo.url, [{"token": t} for _m, t in tokens], args.processes,
                        meeting_id=[m.meeting_id for m, _t in tokens],
                        sources=source_addresses(len(tokens)))
    chairs = []
    try:
        fleet.wait_ready()
        # Each chair from an address of its own (after the tablets'), as ten rooms' would be.
        addresses = source_addresses(len(tokens) + count)[len(tokens):]
        chairs = [chair_of(topo, m, a) for m, a in zip(meetings, addresses)]
        time.sleep(1.0)
        alone = {m.meeting_id: [] for m in meetings}
        together = {m.meeting_id: [] for m in meetings}
        for meeting, chair in zip(meetings, chairs):
            for r in range(args.rounds):
                alone[meeting.meeting_id].append(time.time())
                set_item(chair, meeting, r)
                time.sleep(args.gap)
        with ThreadPoolExecutor(count) as pool:
            for r in range(args.rounds):
                started = time.time()
                calls = [pool.submit(set_item, chair, meeting, args.rounds + r)
                         for meeting, chair in zip(meetings, chairs)]
                for meeting in meetings:
                    together[meeting.meeting_id].append(started)
                for call in calls:
                    call.result()
                time.sleep(args.gap)
        times = fleet.results()
    finally:
        for chair in chairs:
            chair.disconnect()
        fleet.stop()
    rows, data = [], []
    for meeting in meetings:
        mine = [t for (m, _t), t in zip(tokens, times) if m is meeting]
        first_together = together[meeting.meeting_id][0]
        solo = round_latencies([[e for e in tablet if e[0] < first_together] for tablet in mine],
                               alone[meeting.meeting_id])
        busy = round_latencies(mine, together[meeting.meeting_id])
        ratio = round(busy["p99_ms"] / solo["p99_ms"], 2) if solo["p99_ms"] else float("nan")
        rows.append([meeting.meeting_id, per, solo["p50_ms"], solo["p99_ms"], busy["p50_ms"],
                     busy["p99_ms"], ratio, solo["missing"] + busy["missing"]])
        data.append({"meeting_id": meeting.meeting_id, "tablets": per, "alone": solo,
                     "together": busy, "p99_ratio": ratio,
                     "missing": solo["missing"] + busy["missing"]})
    print(f"\n### Topology meetings: {count} meetings x {per} tablets, each alone, then changes "
          f"in all at once ({args.rounds} rounds)\n")
    print(table(["meeting", "tablets", "alone p50 ms", "alone p99 ms", "all at once p50 ms",
                 "all at once p99 ms", "p99 ratio", "missing"], rows))
    return {"scenario": "meetings", "results": data}


SCENARIOS = {"fanout": scenario_fanout, "meetings": scenario_meetings,
             "votes": topology_scenarios.scenario_votes, "pages": topology_scenarios.scenario_pages,
             "kill": topology_scenarios.scenario_kill}


def load_average() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenario", choices=[*SCENARIOS, "smoke"])
    parser.add_argument("--tablets", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--gap", type=float, default=1.0, help="seconds between changes")
    parser.add_argument("--processes", type=int, default=2, help="tablet processes")
    parser.add_argument("--pages", type=int, default=100, help="pages of the PDF (pages)")
    parser.add_argument("--window", type=float, default=1.0, help="seconds of the ballot burst")
    args = parser.parse_args(argv)
    names = [args.scenario]
    if args.scenario == "smoke":
        # One topology for all (kill last: it kills a worker), to keep CI's run short.
        names, args.tablets, args.rounds, args.gap, args.pages = list(SCENARIOS), 5, 2, 0.3, 3
        args.processes = 1
        args.seconds = 1.0
    check_file_limit(args.tablets)
    RESULTS.mkdir(exist_ok=True)
    missing = 0
    with contextlib.ExitStack() as stack:
        shared = stack.enter_context(Topology()) if args.scenario == "smoke" else None
        for name in names:
            before, started = load_average(), time.monotonic()
            with contextlib.ExitStack() as own:
                topo = shared or own.enter_context(Topology())
                result = SCENARIOS[name](topo, args.tablets, args)
            result.update(load_before=before, load_after=load_average(), redis=topo.redis.kind)
            print(f"\n(load average before {before}, after {result['load_after']}; "
                  f"Redis {topo.redis.kind}; {time.monotonic() - started:.0f} s)")
            stamp = time.strftime("%Y%m%d-%H%M%S")
            (RESULTS / f"topology-{name}-{stamp}.json").write_text(json.dumps(result, indent=2))
            missing += sum(r.get("missing", 0) for r in result["results"])
    if missing:
        print(f"\n{missing} deliveries, ballots or tablets missing", file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())

