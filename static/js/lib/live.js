/**
 * live.js — the shared Socket.IO client for tablets, the control room and the projector.
 *
 * It keeps one meeting's live state in step with the server (docs/PROTOCOL.md):
 * connects with auth, tracks the meeting's last applied revision, applies events
 * strictly in revision order, detects gaps and catches up with the server's
 * "sync" command, reconnects by itself with backoff, and exposes the connection
 * state for an always-visible indicator.
 *
 * API
 *   import { createLive } from "/static/js/lib/live.js";
 *   const live = createLive({
 *     auth: { token } | { meeting_id },   // tablet/projector token, or staff (session cookie)
 *     meetingId,                          // the meeting followed (a tablet learns it when pairing)
 *     url: undefined,                     // same origin by default
 *     ackTimeoutMs: 10000,
 *   });
 *   live.on(type, (payload, message) => {})  // one event type ("item.changed"), or "*" for all;
 *                                            // returns an unsubscribe function
 *   live.onSnapshot((snapshot, revision) => {})  // whole state: first connect, or after a long gap
 *   live.state.value                         // "connecting" | "syncing" | "online" |
 *                                            // "reconnecting" | "offline" | "refused"
 *   live.state.subscribe(fn)                 // fn(state, detail) now and on every change
 *   live.revision                            // last applied revision (null before the first sync)
 *   live.meetingId
 *   await live.command(name, payload)        // emits with meeting_id filled in; resolves the
 *                                            // {"ok": true, ...} ack, rejects with LiveError
 *                                            // (.code: server error code, "offline", "timeout")
 *   live.resync({ snapshot: true })          // ask for a catch-up now
 *   live.onMessage(name, fn)                 // raw server messages ("revoked", ...)
 *   live.close()
 *
 * Ordering (docs/PROTOCOL.md §4): events and the revisions named by "revision" ticks go into
 * a buffer keyed by revision and are applied while the next one is there; a hole that lasts
 * longer than GAP_WAIT_MS (1 s, more than the server's 0.25 s tick gathering) costs a "sync".
 *
 * "refused" means the server will not take this connection (revoked or unknown
 * token, session ended); detail.code says why and nothing more is attempted.
 * Events carry resulting state, so a handler can apply one twice without harm;
 * still, live.js never delivers a revision twice or out of order.
 */
import { io } from "/vendor/socket.io.esm.min.js";

/** A tiny observable value: subscribe(fn) calls fn now and on each change. */
export function observable(initial) {
  let value = initial;
  let detail = null;
  const subscribers = new Set();
  return {
    get value() { return value; },
    get detail() { return detail; },
    set(next, nextDetail = null) {
      if (next === value && nextDetail === detail) return;
      value = next;
      detail = nextDetail;
      for (const fn of [...subscribers]) {
        try { fn(value, detail); } catch (err) { console.error(err); }
      }
    },
    subscribe(fn) {
      subscribers.add(fn);
      fn(value, detail);
      return () => subscribers.delete(fn);
    },
  };
}

export class LiveError extends Error {
  constructor(code, message, fields = null) {
    super(message || code);
    this.code = code;
    this.fields = fields;
  }
}

// After this long without a connection the indicator says "offline", not "reconnecting".
const OFFLINE_AFTER_MS = 15000;
// How long a missing revision is waited for before asking for a sync (PROTOCOL.md §4, rule 4).
const GAP_WAIT_MS = 1000;
const REFUSAL_CODES = new Set(["invalid_token", "revoked", "not_authenticated", "forbidden", "not_found"]);

export function createLive({ auth, meetingId = null, url = undefined, ackTimeoutMs = 10000 } = {}) {
  const state = observable("connecting");
  const handlers = new Map();        // type -> Set(fn)
  const snapshotHandlers = new Set();
  let revision = null;
  const currentMeeting = meetingId ?? auth?.meeting_id ?? null;
  if (currentMeeting === null) throw new Error("createLive needs meetingId");
  let syncing = false;
  let syncAgain = false;
  let wantSnapshot = true;           // the first sync brings the whole state
  const pending = new Map();         // revision -> event message, or null for a tick
  let gapTimer = null;
  let lostAt = null;
  let offlineTimer = null;
  let closed = false;

  const socket = io(url, {
    auth,
    reconnection: true,
    reconnectionDelay: 500,
    reconnectionDelayMax: 8000,
    randomizationFactor: 0.5,
    timeout: 8000,
  });

  function emitTo(set, ...args) {
    if (!set) return;
    for (const fn of [...set]) {
      try { fn(...args); } catch (err) { console.error("live handler failed", err); }
    }
  }

  function apply(message) {
    revision = message.revision;
    emitTo(handlers.get(message.type), message.payload, message);
    emitTo(handlers.get("*"), message.payload, message);
  }

  function markLost() {
    if (closed || state.value === "refused") return;
    if (lostAt === null) lostAt = Date.now();
    const goneFor = Date.now() - lostAt;
    const offline = (typeof navigator !== "undefined" && navigator.onLine === false)
      || goneFor >= OFFLINE_AFTER_MS;
    state.set(offline ? "offline" : "reconnecting");
    clearTimeout(offlineTimer);
    if (!offline) offlineTimer = setTimeout(markLost, OFFLINE_AFTER_MS - goneFor + 10);
  }

  /** One message off the wire: an "event", or a "revision" tick naming revisions for others. */
  function receive(message, isTick) {
    if (!message || typeof message.revision !== "number") return;
    if (message.meeting_id !== currentMeeting) return;
    const revisions = isTick && Array.isArray(message.revisions) && message.revisions.length
      ? message.revisions : [message.revision];
    for (const r of revisions) {
      if (typeof r !== "number" || (revision !== null && r <= revision)) continue;
      if (!isTick) pending.set(r, message);
      else if (!pending.has(r)) pending.set(r, null);
    }
    if (!syncing && revision !== null) drain();
  }

  /** Apply what follows the current revision, in order. */
  function applyInOrder() {
    while (pending.has(revision + 1)) {
      const message = pending.get(revision + 1);
      pending.delete(revision + 1);
      if (message) apply(message);
      else revision += 1;                                   // someone else's event
    }
    for (const r of [...pending.keys()]) if (r <= revision) pending.delete(r);
  }

  /** Apply in order; a hole is waited for (GAP_WAIT_MS), then filled by a sync. */
  function drain() {
    applyInOrder();
    if (!pending.size) {
      clearTimeout(gapTimer);
      gapTimer = null;
      return;
    }
    // Ticks are gathered (up to 0.25 s) and workers race: a missing revision usually
    // arrives on its own. Only a hole that outlasts the wait costs a sync.
    if (!gapTimer) {
      gapTimer = setTimeout(() => {
        gapTimer = null;
        if (syncing || revision === null) return;
        applyInOrder();
        if (pending.size) sync();
      }, GAP_WAIT_MS);
    }
  }

  async function sync() {
    if (syncing) { syncAgain = true; return; }
    if (!socket.connected) return;
    syncing = true;
    if (state.value !== "online") state.set("syncing");
    try {
      do {
        syncAgain = false;
        const since = wantSnapshot ? null : revision;
        const payload = { meeting_id: currentMeeting };
        if (since !== null) payload.since_revision = since;
        const ack = await socket.timeout(ackTimeoutMs).emitWithAck("sync", payload);
        if (!ack || !ack.ok) throw new LiveError(ack?.error?.code || "sync_failed", ack?.error?.message);
        if (ack.mode === "snapshot") {
          revision = ack.revision;
          wantSnapshot = false;
          emitTo(snapshotHandlers, ack.snapshot, ack.revision);
        } else {
          for (const message of ack.events) {
            if (revision === null || message.revision > revision) apply(message);
          }
          if (revision === null || ack.revision > revision) revision = ack.revision;
        }
      } while (syncAgain);
      syncing = false;
      clearTimeout(gapTimer);
      gapTimer = null;
      drain();
      if (socket.connected && !syncing) state.set("online");
    } catch (err) {
      syncing = false;
      if (err instanceof LiveError && REFUSAL_CODES.has(err.code)) {
        state.set("refused", { code: err.code, message: err.message });
        socket.disconnect();
        return;
      }
      // Timed out or failed: try again shortly if still connected.
      if (socket.connected) setTimeout(sync, 1000);
    }
  }

  socket.on("connect", () => {
    lostAt = null;
    clearTimeout(offlineTimer);
    sync();
  });
  socket.on("disconnect", (reason) => {
    if (closed) return;
    if (reason === "io server disconnect" && state.value !== "refused") {
      // The server cut us off: socket.io does not retry by itself. A revoked device has
      // been told so first ("revoked" sets "refused"), so this is for other cuts.
      setTimeout(() => { if (!closed && !socket.connected && state.value !== "refused") socket.connect(); }, 1000);
    }
    markLost();
  });
  socket.on("connect_error", (err) => {
    const code = err?.data?.code;
    if (code && REFUSAL_CODES.has(code)) {
      state.set("refused", { code, message: err.message });
      return;
    }
    markLost();
    // A refusal by the connect handler stops socket.io's own retries; keep trying.
    if (!socket.active && !closed) setTimeout(() => { if (!closed && !socket.connected) socket.connect(); }, 2000);
  });
  socket.on("event", (message) => receive(message, false));
  socket.on("revision", (message) => receive(message, true));
  // The server's periodic reminder of the meeting's revision (PROTOCOL.md, "heartbeat"):
  // still behind it once in-flight messages had time to land means something was lost.
  socket.on("heartbeat", (message) => {
    if (!message || message.meeting_id !== currentMeeting || typeof message.revision !== "number") return;
    setTimeout(() => {
      if (revision !== null && revision < message.revision && !syncing) sync();
    }, GAP_WAIT_MS);
  });
  socket.on("revoked", () => {
    state.set("refused", { code: "revoked", message: "This device has been unpaired." });
  });
  if (typeof window !== "undefined") {
    window.addEventListener("offline", markLost);
    window.addEventListener("online", () => {
      if (!socket.connected && !closed && state.value !== "refused") socket.connect();
    });
  }

  return {
    state,
    socket,
    get revision() { return revision; },
    get meetingId() { return currentMeeting; },
    on(type, fn) {
      if (!handlers.has(type)) handlers.set(type, new Set());
      handlers.get(type).add(fn);
      return () => handlers.get(type).delete(fn);
    },
    onSnapshot(fn) {
      snapshotHandlers.add(fn);
      return () => snapshotHandlers.delete(fn);
    },
    onMessage(name, fn) {
      socket.on(name, fn);
      return () => socket.off(name, fn);
    },
    async command(name, payload = {}) {
      if (!socket.connected) throw new LiveError("offline", "Not connected to the server.");
      let ack;
      try {
        ack = await socket.timeout(ackTimeoutMs).emitWithAck(name, { meeting_id: currentMeeting, ...payload });
      } catch {
        throw new LiveError("timeout", "The server did not answer in time.");
      }
      if (!ack || !ack.ok) {
        throw new LiveError(ack?.error?.code || "error", ack?.error?.message, ack?.error?.fields);
      }
      return ack;
    },
    resync({ snapshot = false } = {}) {
      if (snapshot) wantSnapshot = true;
      return sync();
    },
    close() {
      closed = true;
      clearTimeout(offlineTimer);
      socket.close();
      state.set("offline");
    },
  };
}
