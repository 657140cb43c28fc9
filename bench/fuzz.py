"""The long fuzz: schemathesis and hypothesis against a real server, per role and backend.

    python -m bench.fuzz                       # the default budget (minutes per role)
    python -m bench.fuzz --examples 50 --backend sqlite --role secretary   # a quick look

For each backend (SQLite, and a scratch PostgreSQL database) it seeds the security suites'
world (tests/security/world.py: a published meeting with every kind of object, a second
meeting, paired tablets, a projector), starts ``hemicycle serve`` as its own process, and
then, for each role:

- runs the schemathesis CLI from outside against the server's own ``/api/openapi.json``
  with that role's credentials (session cookie + CSRF token, or the tablet's bearer
  token, or none), every phase: examples, coverage, fuzzing (stateless, ``--examples``
  per operation) and stateful (chains of operations through the links schemathesis
  infers from the document), with the ``not_a_server_error`` check;
- for the socket roles, sends every socket command ``--socket-examples`` payloads drawn
  by hypothesis over a real Socket.IO connection (tests/security/test_socket_fuzz.py's
  strategies), counting any ``internal_error`` answer and any hang-up.

It prints a table (operation x role x backend: examples run, 5xx found) and writes it,
with the failing requests, to ``bench/results/fuzz-<time>.md``; the exit code is 1 if any
server error was found. The server's log is checked for tracebacks as well.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from contextlib import ExitStack
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
API_ROLES = ("admin", "secretary", "chair", "delegate", "tablet", "anonymous")
SOCKET_ROLES = ("secretary", "chair", "tablet")
USER_AGENT = "hemicycle-fuzz/1"
# Ends the role's own session for every operation after it; covered by the CI fuzz instead.
EXCLUDED = ["/api/v1/auth/logout"]


def build_world(root: Path, database_url: str):
    """The seeded world on ``database_url``; files under ``root``."""
    from server import create_app
    from server.extensions import db
    from server.models import Base
    from tests.conftest import test_config as config_for
    from tests.security import world as worlds

    root.mkdir(parents=True, exist_ok=True)
    app = create_app(config_for(root, DATABASE_URL=database_url, DOCUMENT_RENDER_INLINE=True))
    with app.app_context():
        Base.metadata.create_all(db.engine)
        world = worlds.seed(root)
        db.session.remove()
        db.engine.dispose()
    return world


def credentials(url: str, world, role: str) -> dict:
    """The headers that make a request come from ``role``."""
    from tests import factories

    headers = {"User-Agent": USER_AGENT}
    if role in world.tokens:
        headers["Authorization"] = f"Bearer {world.tokens[role]}"
    elif role != "anonymous":
        answer = requests.post(url + "/api/v1/auth/login", headers=headers, timeout=10, json={
            "username": world.usernames[role], "password": factories.PASSWORD})
        answer.raise_for_status()
        cookie = "; ".join(f"{c.name}={c.value}" for c in answer.cookies)
        headers.update({"Cookie": cookie, "X-CSRFToken": answer.json()["csrf_token"]})
    return headers


def run_schemathesis(url: str, headers: dict, examples: int, report: Path, seed: int,
                     phases: str) -> dict[str, dict]:
    """{"METHOD /path": {"examples": n, "errors": [...]}} from one CLI run."""
    command = [str(Path(sys.executable).with_name("schemathesis")), "run",
               f"{url}/api/openapi.json", "--checks", "not_a_server_error",
               "--max-examples", str(examples), "--phases", phases, "--seed", str(seed),
               "--workers", "2", "--request-timeout", "30", "--no-shrink",
               "--suppress-health-check", "all", "--continue-on-failure",
               "--report", "ndjson", "--report-ndjson-path", str(report),
               "--warnings", "off"]
    for path in EXCLUDED:
        command += ["--exclude-path", path]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": ""}
    # In the scratch directory: schemathesis keeps a cache of past crashes in its working
    # directory and would replay them first.
    subprocess.run(command, env=env, cwd=report.parent, stdout=subprocess.DEVNULL,
                   stderr=subprocess.STDOUT, check=False)
    return parse_ndjson(report)


def parse_ndjson(report: Path) -> dict[str, dict]:
    """Count the test cases run and the server errors found, per operation.

    Each finished scenario (one operation in one phase, or one stateful chain) records its
    cases, keyed by id, with their method and path template, and the checks run on each.
    """
    found: dict[str, dict] = defaultdict(lambda: {"examples": 0, "errors": []})
    if not report.exists():
        return found
    for line in report.read_text().splitlines():
        body = json.loads(line).get("ScenarioFinished")
        if body is None:
            continue
        recorder = body.get("recorder") or {}
        operations, requests_sent = {}, {}
        for case_id, case in (recorder.get("cases") or {}).items():
            value = case.get("value") or {}
            operation = (f"{value['method']} {value['path']}" if "method" in value
                         else recorder.get("label", "?"))
            operations[case_id] = operation
            requests_sent[case_id] = {k: value.get(k) for k in (
                "path_parameters", "query", "body", "media_type") if value.get(k) is not None}
            found[operation]["examples"] += 1
        for case_id, checks in (recorder.get("checks") or {}).items():
            for check in checks:
                if check.get("name") == "not_a_server_error" \
                        and str(check.get("status")).lower() == "failure":
                    found[operations.get(case_id, recorder.get("label", "?"))]["errors"].append(
                        json.dumps(requests_sent.get(case_id, check), default=str)[:2000])
    return found


def socket_fuzz(url: str, world, role: str, headers: dict, examples: int,
                seed: int) -> dict[str, dict]:
    """Every socket command with generated payloads, over one real connection."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import seed as hypothesis_seed

    from server.realtime.commands import COMMANDS
    from tests.realtime.clients import LiveClient
    from tests.security.test_socket_fuzz import UNKNOWN_EVENTS, command_calls

    meeting_id = world.ids["meeting_id"]
    if "Authorization" in headers:
        client = LiveClient(url, auth={"token": world.tokens[role]})
    else:
        client = LiveClient(url, cookie=headers["Cookie"], auth={"meeting_id": meeting_id})
    client.headers["User-Agent"] = USER_AGENT  # the login session is bound to its browser
    found: dict[str, dict] = defaultdict(lambda: {"examples": 0, "errors": []})

    def send(call):
        name, args = call
        label = f"socket {name}" if name in COMMANDS else "socket <unknown event>"
        data = None if not args else args[0] if len(args) == 1 else tuple(args)
        while True:
            time.sleep(0.105)  # the per-connection rate (10/s): throttling is not what is tested
            answer = client.sio.call(name, data, timeout=30)
            error = (answer or {}).get("error") or {} if isinstance(answer, dict) else {}
            if error.get("code") != "too_many_requests":
                break
        found[label]["examples"] += 1
        if not isinstance(answer, dict) or not isinstance(answer.get("ok"), bool) or (
                not answer["ok"] and (not error.get("code") or error["code"] == "internal_error")):
            found[label]["errors"].append(f"{name} {json.dumps(data, default=str)[:500]} -> "
                                          f"{json.dumps(answer, default=str)[:300]}")

    def fuzz(strategy, count):
        def run(call):
            send(call)

        hypothesis_seed(seed)(given(call=strategy)(settings(
            max_examples=count, deadline=None, database=None,
            suppress_health_check=list(HealthCheck))(run)))()

    with client:
        for name in sorted(COMMANDS):
            fuzz(command_calls(name, meeting_id), examples)
        fuzz(UNKNOWN_EVENTS, max(10, examples // 10))
        if not client.sio.connected:
            found["socket <connection>"]["errors"].append("the server hung up on the fuzzer")
    return found


def fuzz_backend(backend: str, database_url: str, root: Path, args) -> dict:
    from tests.live import LiveServer

    world = build_world(root, database_url)
    server = LiveServer(root / "data", database_url, async_mode="eventlet")
    server.start(timeout=60)
    results: dict = {}
    try:
        # Every role logs in before any fuzzing: the fuzzed login endpoint's wrong passwords
        # soon lock this address out of logging in (the login limit working as designed).
        logins = {role: credentials(server.url, world, role)
                  for role in dict.fromkeys(API_ROLES + SOCKET_ROLES) if role in args.role}
        # Sockets first, on the world as seeded: the API fuzz later revokes tablets, ends
        # meetings and changes whatever its roles may change.
        threads, socket_results = [], {}
        for role in [r for r in SOCKET_ROLES if r in args.role and args.socket_examples]:
            def work(role=role):
                try:
                    socket_results[role] = socket_fuzz(server.url, world, role, logins[role],
                                                       args.socket_examples, args.seed)
                except Exception as exc:  # a refused connection is a finding, not a crash
                    socket_results[role] = {"socket <connect>": {"examples": 0, "errors": [
                        f"{type(exc).__name__}: {exc}"]}}
            threads.append(threading.Thread(target=work, name=f"socket-{role}"))
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for role, found in socket_results.items():
            for operation, counts in found.items():
                results[(operation, role)] = counts
        if threads:
            print(f"  {backend} sockets: {sorted(socket_results)} "
                  f"({time.monotonic() - started:.0f}s)", flush=True)
        roles = [r for r in API_ROLES if r in args.role and args.examples]
        for index, role in enumerate(roles):
            started = time.monotonic()
            report = root / f"schemathesis-{role}.ndjson"
            found = run_schemathesis(server.url, logins[role],
                                     args.examples, report, args.seed + index, args.phases)
            for operation, counts in found.items():
                results[(operation, role)] = counts
            print(f"  {backend} {role}: {sum(c['examples'] for c in found.values())} requests, "
                  f"{sum(len(c['errors']) for c in found.values())} server errors "
                  f"({time.monotonic() - started:.0f}s)", flush=True)
        alive = requests.get(server.url + "/healthz", timeout=10).status_code == 200
        if not alive or server.process.poll() is not None:
            results[("<server>", "-")] = {"examples": 0, "errors": ["the server stopped answering"]}
    finally:
        server.stop()
    tracebacks = server.log().count("Traceback (most recent call last)")
    if tracebacks:
        results[("<server log>", "-")] = {"examples": 0,
                                          "errors": [f"{tracebacks} tracebacks in the log"]}
    return results


def table(all_results: dict[str, dict]) -> str:
    backends = list(all_results)
    rows = sorted({key for results in all_results.values() for key in results})
    lines = ["| operation | role | " + " | ".join(f"{b} examples | {b} 5xx" for b in backends) + " |",
             "|---|---|" + "---:|---:|" * len(backends)]
    for operation, role in rows:
        cells = []
        for backend in backends:
            counts = all_results[backend].get((operation, role))
            cells += ["-", "-"] if counts is None else [str(counts["examples"]),
                                                         str(len(counts["errors"]))]
        lines.append(f"| {operation} | {role} | " + " | ".join(cells) + " |")
    totals = []
    for backend in backends:
        results = all_results[backend]
        totals += [str(sum(c["examples"] for c in results.values())),
                   str(sum(len(c["errors"]) for c in results.values()))]
    lines.append("| **all** | **all** | " + " | ".join(f"**{t}**" for t in totals) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=500,
                        help="schemathesis examples per operation and phase (default 500; 0: sockets only)")
    parser.add_argument("--socket-examples", type=int, default=200,
                        help="payloads per socket command and role (default 200)")
    parser.add_argument("--backend", action="append", choices=["sqlite", "postgresql"])
    parser.add_argument("--role", action="append", choices=sorted(set(API_ROLES + SOCKET_ROLES)))
    parser.add_argument("--phases", default="examples,coverage,fuzzing,stateful")
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args(argv)
    args.backend = args.backend or ["sqlite", "postgresql"]
    args.role = args.role or list(dict.fromkeys(API_ROLES + SOCKET_ROLES))

    from tests.conftest import POSTGRES_URL
    from tests.pg import scratch_database

    all_results: dict[str, dict] = {}
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    with tempfile.TemporaryDirectory(prefix="hemicycle-fuzz-") as scratch, ExitStack() as stack:
        for backend in args.backend:
            print(f"{backend}:", flush=True)
            root = Path(scratch) / backend
            url = (stack.enter_context(scratch_database(POSTGRES_URL)) if backend == "postgresql"
                   else f"sqlite:///{root / 'test.db'}")
            all_results[backend] = fuzz_backend(backend, url, root, args)
            if os.environ.get("HEMICYCLE_FUZZ_KEEP"):
                shutil.copytree(root, RESULTS / f"fuzz-{backend}", dirs_exist_ok=True)
    text = table(all_results)
    errors = [(backend, key, error) for backend, results in all_results.items()
              for key, counts in results.items() for error in counts["errors"]]
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"fuzz-{time.strftime('%Y%m%d-%H%M%S')}.md"
    out.write_text(f"# Fuzz run {started}\n\nexamples={args.examples} "
                   f"socket_examples={args.socket_examples} phases={args.phases} "
                   f"seed={args.seed}\n\n{text}\n\n## Server errors\n\n" + "\n\n".join(
                       f"- {backend} {key}:\n```\n{error}\n```" for backend, key, error in errors))
    print(text)
    print(f"\n{len(errors)} server errors; written to {out.relative_to(ROOT)}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
