"""Simulated tablets: many python-socketio AsyncClients per process, over WebSocket.

A worker process connects its share of tablets, then records when each tablet
receives each ``event``; the driver collects the times at the end. Tablets of
a real meeting authenticate with device tokens (auth={"token": ...}); baseline
tablets send no auth. A tablet may connect from a source address of its own (127.0.0.2,
127.0.0.3, ...: all loopback), so that a proxy hashing client addresses spreads the fleet
over its workers as it would spread a hall.
"""
from __future__ import annotations

import asyncio
import multiprocessing as mp
import time

import socketio


class TabletState:
    """What one simulated tablet saw: event receipt times and completed syncs."""

    def __init__(self):
        self.events: list[tuple[float, int]] = []
        self.syncs: list[tuple[float, int]] = []
        self.revision = 0
        self.first_page: tuple[float, int] | None = None  # when page 1 of a pushed document arrived


async def _fetch_first_page(url: str, token: str, payload: dict, state: TabletState, http):
    """What a tablet does when a document is pushed: show its first page."""
    path = (f"/api/v1/documents/{payload['document_id']}/versions/{payload['number']}"
            "/pages/1.jpg")
    async with http.get(url + path, headers={"Authorization": f"Bearer {token}"}) as response:
        await response.read()
        state.first_page = (time.time(), response.status)


async def _connect(url: str, auth: dict | None, received: list, sem: asyncio.Semaphore,
                   event_names: tuple[str, ...], meeting_id: int | None, http=None,
                   session=None):
    client = socketio.AsyncClient(reconnection=True, reconnection_delay=0.5,
                                  reconnection_delay_max=2, randomization_factor=0.5,
                                  http_session=session)
    state = TabletState()
    received.append(state)

    def on_event(message):
        revision = message.get("revision", 0) if isinstance(message, dict) else 0
        state.events.append((time.time(), revision))
        state.revision = max(state.revision, revision)
        if (http is not None and isinstance(message, dict)
                and message.get("type") == "document.pushed"):
            asyncio.ensure_future(_fetch_first_page(url, auth["token"], message["payload"],
                                                    state, http))

    for name in event_names:
        client.on(name, on_event)

    async def sync():
        # As a real tablet does after every (re)connection: ask for what it missed.
        try:
            ack = await client.call("sync", {"meeting_id": meeting_id,
                                             "since_revision": state.revision}, timeout=60)
        except Exception:
            return
        if isinstance(ack, dict) and ack.get("ok"):
            state.revision = max(state.revision, ack.get("revision", 0))
            state.syncs.append((time.time(), state.revision))

    if meeting_id is not None:
        client.on("connect", lambda: asyncio.ensure_future(sync()))
    async with sem:  # bounded concurrency while connecting, like tablets arriving
        for attempt in range(5):
            try:
                await client.connect(url, auth=auth, transports=["websocket"], wait_timeout=30)
                break
            except socketio.exceptions.ConnectionError:
                await asyncio.sleep(0.5 * (attempt + 1))
        else:
            raise RuntimeError("tablet could not connect")
    return client


async def _run(url: str, auths: list, conn, event_names, meetings: list, sources: list):
    import aiohttp

    received: list[TabletState] = []
    sem = asyncio.Semaphore(50)
    # One HTTP connection pool per process, like a browser's per tablet but cheaper; one per
    # source address when tablets have addresses of their own.
    http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=200))
    bound = {address: aiohttp.ClientSession(connector=aiohttp.TCPConnector(
        limit=0, local_addr=(address, 0))) for address in set(sources) if address}
    clients = await asyncio.gather(*[
        _connect(url, a, received, sem, event_names, meeting,
                 (bound.get(source) or http) if a else None, bound.get(source))
        for a, meeting, source in zip(auths, meetings, sources)])
    conn.send(("ready", len(clients)))
    loop = asyncio.get_running_loop()
    while True:
        command = await loop.run_in_executor(None, conn.recv)
        if command == "results":
            conn.send(("results", [state.events for state in received]))
        elif command == "syncs":
            conn.send(("syncs", [state.syncs for state in received]))
        elif command == "first_pages":
            conn.send(("first_pages", [state.first_page for state in received]))
        elif isinstance(command, tuple) and command[0] == "cast":
            _, poll_id, window = command
            conn.send(("cast", await _cast_all(clients, meetings, poll_id, window)))
        elif command == "connected":
            conn.send(("connected", sum(1 for c in clients if c.connected)))
        elif command == "stop":
            await asyncio.gather(*[c.disconnect() for c in clients], return_exceptions=True)
            await asyncio.gather(http.close(), *[b.close() for b in bound.values()])
            conn.send(("stopped", None))
            return


async def _cast_all(clients, meetings, poll_id, window):
    """Every tablet votes once, at a random moment within ``window`` seconds.

    Returns (ack latency in ms, ok, ballot id, choice) per tablet."""
    import random
    import uuid

    async def cast(client, meeting_id):
        await asyncio.sleep(random.uniform(0, window))
        ballot_id, choice = str(uuid.uuid4()), random.choice(["yes", "no", "abstain"])
        started = time.perf_counter()
        try:
            ack = await client.call("ballot.cast", {"meeting_id": meeting_id, "poll_id": poll_id,
                                                    "ballot_id": ballot_id, "choices": [choice]},
                                    timeout=60)
            ok = isinstance(ack, dict) and ack.get("ok") is True
        except Exception:
            ok = False
        return ((time.perf_counter() - started) * 1000, ok, ballot_id, choice)

    return await asyncio.gather(*[cast(c, m) for c, m in zip(clients, meetings)])


def _worker(url, auths, conn, event_names, meetings, sources):
    asyncio.run(_run(url, auths, conn, event_names, meetings, sources))


def source_addresses(count: int) -> list[str]:
    """``count`` distinct loopback addresses from 127.0.0.2 on, one per simulated tablet."""
    numbers = (n for n in range(2, 1 << 24) if n & 255 not in (0, 255))
    return [f"127.{n >> 16}.{(n >> 8) & 255}.{n & 255}" for n, _ in zip(numbers, range(count))]


class TabletFleet:
    """N tablets spread over worker processes. ``meeting_id``: one meeting for all, or one per
    tablet; ``sources``: a source address per tablet (None: the system's choice). Per-tablet
    results come back in the order of ``auths``."""

    def __init__(self, url: str, auths: list[dict | None], processes: int = 2,
                 event_names: tuple[str, ...] = ("event",),
                 meeting_id: int | list[int] | None = None, sources: list[str] | None = None):
        self.pipes = []
        self.procs = []
        self.order: list[int] = []
        ctx = mp.get_context("spawn")
        meetings = meeting_id if isinstance(meeting_id, list) else [meeting_id] * len(auths)
        sources = sources or [None] * len(auths)
        for first in range(processes):
            share = list(range(len(auths)))[first::processes]
            if not share:
                continue
            self.order += share
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_worker, args=(
                url, [auths[i] for i in share], child, event_names,
                [meetings[i] for i in share], [sources[i] for i in share]), daemon=True)
            proc.start()
            self.pipes.append(parent)
            self.procs.append(proc)

    def wait_ready(self, timeout: float = 300) -> int:
        total = 0
        for pipe in self.pipes:
            if not pipe.poll(timeout):
                raise TimeoutError("tablets did not connect in time")
            kind, count = pipe.recv()
            total += count
        return total

    def _ask(self, command: str):
        for pipe in self.pipes:
            pipe.send(command)
        return [pipe.recv()[1] for pipe in self.pipes]

    def _in_order(self, batches) -> list:
        flat = [each for batch in batches for each in batch]
        ordered = [None] * len(flat)
        for index, each in zip(self.order, flat):
            ordered[index] = each
        return ordered

    def results(self) -> list[list[tuple[float, int]]]:
        return self._in_order(self._ask("results"))

    def cast(self, poll_id: int, window: float) -> list[tuple[float, bool, str, str]]:
        for pipe in self.pipes:
            pipe.send(("cast", poll_id, window))
        return self._in_order([pipe.recv()[1] for pipe in self.pipes])

    def first_pages(self) -> list[tuple[float, int] | None]:
        return self._in_order(self._ask("first_pages"))

    def syncs(self) -> list[list[tuple[float, int]]]:
        return self._in_order(self._ask("syncs"))

    def connected(self) -> int:
        return sum(self._ask("connected"))

    def stop(self) -> None:
        try:
            self._ask("stop")
        finally:
            for proc in self.procs:
                proc.join(10)
                if proc.is_alive():
                    proc.kill()
