// The meeting's live state as the session screens see it, kept by live.js.
//
// A snapshot (first connect, or after a long gap) replaces everything; each
// event carries the resulting state of what it changed, so applying it is a
// plain assignment. Listeners get the name of what changed and redraw.

import { flattenAgenda } from "./common.js";

export function createStore(live) {
  const state = {
    revision: null,
    meeting: null,
    session: null,
    currentItemId: null,
    agenda: [],            // flattened, reading order, each with depth and timer
    presented: null,       // {document_id, version_id, number, page, page_count, title}
    floor: { speaking: null, queue: [] },
    quorum: null,
    participants: new Map(),   // id -> {participant_id, name, role, attendance, ...}
    online: new Set(),         // participant ids with a tablet online (staff only)
    polls: new Map(),          // id -> poll view
    progress: new Map(),       // poll id -> {cast, members, not_voted?...}
    results: new Map(),        // poll id -> result summary
    featuredPollId: null,      // the poll the projector shows (open, just closed or published)
    // The message on screens when the page was served (snapshots do not carry it).
    announcement: JSON.parse(document.querySelector("[data-announcement]")?.dataset.announcement || "null"),
    skewMs: 0,                 // client clock minus server clock, roughly
    lastPushed: null,
  };
  const listeners = new Set();
  const changed = (what) => {
    for (const fn of [...listeners]) {
      try { fn(what, state); } catch (err) { console.error(err); }
    }
  };

  function setPoll(poll) {
    const previous = state.polls.get(poll.id) || {};
    state.polls.set(poll.id, { ...previous, ...poll });
  }

  live.onSnapshot((snapshot, revision) => {
    state.revision = revision;
    state.meeting = snapshot.meeting;
    state.session = snapshot.session;
    state.currentItemId = snapshot.current_item_id;
    state.agenda = flattenAgenda(snapshot.agenda);
    state.presented = snapshot.presented;
    state.floor = snapshot.floor || { speaking: null, queue: [] };
    state.quorum = snapshot.quorum;
    state.participants = new Map((snapshot.participants || []).map((p) => [p.participant_id, p]));
    state.online = new Set(snapshot.online || []);
    if (snapshot.poll) {
      const { poll_id: id, voted, ...rest } = snapshot.poll;
      setPoll({ id, status: "open", ...rest });
      const progress = state.progress.get(id) || {};
      state.progress.set(id, { ...progress, poll_id: id, cast: Math.max(voted, progress.cast || 0) });
      state.featuredPollId = id;
    } else if (state.featuredPollId && state.polls.get(state.featuredPollId)?.status === "open") {
      state.featuredPollId = null; // it closed while we were away; the poll list will tell
    }
    changed("snapshot");
  });

  live.on("*", (_payload, message) => {
    state.revision = message.revision;
    if (message.at) {
      const skew = Date.now() - Date.parse(message.at);
      // Delivery takes a little time: keep the smallest recent estimate.
      if (Number.isFinite(skew) && Math.abs(skew) < 24 * 3600 * 1000) {
        state.skewMs = state.skewSeen ? Math.min(state.skewMs * 0.8 + skew * 0.2, skew) : skew;
        state.skewSeen = true;
      }
    }
  });

  live.on("session.changed", (p) => { state.session = p; changed("session"); });
  live.on("item.changed", (p) => {
    state.currentItemId = p.current_item_id;
    const item = state.agenda.find((i) => i.id === p.current_item_id);
    if (item && p.timer) item.timer = p.timer;
    if (item) item.done_at = null;
    const previous = state.agenda.find((i) => i.id === p.previous_item_id);
    if (previous && "previous_done_at" in p) previous.done_at = p.previous_done_at;
    changed("item");
  });
  live.on("timer.changed", (p) => {
    const item = state.agenda.find((i) => i.id === p.item_id);
    if (item) item.timer = p;
    changed("timer");
  });
  // Preparation changes after publishing: take the whole state again.
  live.on("agenda.changed", () => live.resync({ snapshot: true }));
  live.on("participants.changed", () => live.resync({ snapshot: true }));
  live.on("meeting.updated", (p) => { state.meeting = { ...state.meeting, ...p }; changed("meeting"); });
  live.on("floor.changed", (p) => { state.floor = p; changed("floor"); });
  live.on("attendance.changed", (p) => {
    const person = state.participants.get(p.participant_id);
    if (person) {
      person.attendance = p.status;
      Object.assign(person, p);
    }
    if (p.quorum) state.quorum = p.quorum;
    changed("attendance");
  });
  live.on("presence.changed", (p) => {
    if (p.online) state.online.add(p.participant_id);
    else state.online.delete(p.participant_id);
    changed("presence");
  });
  live.on("document.presented", (p) => {
    const same = state.presented && state.presented.version_id === p.version_id;
    state.presented = { ...(same ? state.presented : {}), ...p };
    changed("presented");
  });
  live.on("document.pushed", (p) => { state.lastPushed = p; changed("pushed"); });
  for (const type of ["document.added", "document.version", "document.updated", "document.removed",
    "document.rendered"]) {
    live.on(type, () => changed("documents"));
  }
  live.on("poll.updated", (p) => { setPoll(p); changed("polls"); });
  live.on("poll.opened", (p) => { setPoll(p); state.featuredPollId = p.id; changed("polls"); });
  live.on("poll.closed", (p) => { setPoll(p); state.featuredPollId = p.id; changed("polls"); });
  live.on("poll.published", (p) => {
    const { result, ...poll } = p;
    setPoll(poll);
    if (result) state.results.set(poll.id, result);
    state.featuredPollId = poll.id;
    changed("polls");
  });
  live.on("poll.cancelled", (p) => {
    setPoll(p);
    if (state.featuredPollId === p.id) state.featuredPollId = null;
    changed("polls");
  });
  live.on("poll.progress", (p) => { state.progress.set(p.poll_id, p); changed("progress"); });
  live.on("announcement", (p) => { state.announcement = p.cleared ? null : p; changed("announcement"); });
  for (const type of ["device.paired", "device.revoked", "device.status", "device.wiped"]) {
    live.on(type, () => changed("devices"));
  }

  return {
    state,
    subscribe(fn) { listeners.add(fn); return () => listeners.delete(fn); },
    changed,
    setPoll,
    currentItem() { return state.agenda.find((i) => i.id === state.currentItemId) || null; },
  };
}
