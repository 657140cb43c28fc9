// The meeting as this tablet knows it: the server's snapshot, kept current by live events,
// remembered in IndexedDB so the tablet can start (and be read) without the server.
import { kvGet, kvSet } from "./db.js";

const listeners = new Set();
let saveTimer = null;

export const state = {
  pairing: null,        // {token, meeting_id, participant_id, device_id}
  meeting: null,        // {id, title, body, place, starts_at}
  session: null,        // {state, status, opened_at, closed_at}
  current_item_id: null,
  agenda: [],
  presented: null,      // {version_id, document_id, page, ...}
  floor: { speaking: null, queue: [] },
  quorum: null,
  participants: [],
  poll: null,           // the open (or last published) poll
  documents: [],
  revision: null,
  sealed: false,
  announcement: null,   // {text, at} from the control room
};

export function subscribe(fn) { listeners.add(fn); return () => listeners.delete(fn); }

export function changed(what) {
  for (const fn of [...listeners]) {
    try { fn(what); } catch (err) { console.error(err); }
  }
  clearTimeout(saveTimer);
  // What must survive an immediate reload is written at once; the rest is gathered.
  saveTimer = setTimeout(remember, ["snapshot", "sealed", "wiped"].includes(what) ? 0 : 300);
}

function remember() {
  if (!state.pairing) return;
  const { pairing, ...rest } = state;
  kvSet("state", rest).catch((err) => console.warn("could not remember the state", err));
}

/** The last state remembered on this tablet (for starting offline). */
export async function recall() {
  const saved = await kvGet("state").catch(() => null);
  if (saved && saved.meeting && state.pairing && saved.meeting.id === state.pairing.meeting_id) {
    Object.assign(state, saved);
    return true;
  }
  return false;
}

export function me() {
  const id = state.pairing?.participant_id;
  return state.participants.find((p) => p.participant_id === id) || null;
}

export function applySnapshot(snapshot, revision) {
  Object.assign(state, {
    meeting: snapshot.meeting,
    session: snapshot.session,
    current_item_id: snapshot.current_item_id,
    agenda: snapshot.agenda || [],
    presented: snapshot.presented,
    floor: snapshot.floor || { speaking: null, queue: [] },
    quorum: snapshot.quorum,
    participants: snapshot.participants || [],
    revision,
    sealed: snapshot.session?.status === "sealed",
  });
  if (snapshot.poll) {
    const poll = snapshot.poll;
    state.poll = { ...poll, id: poll.poll_id ?? poll.id, status: "open" };
  } else if (state.poll && state.poll.status === "open") {
    state.poll = null;
  }
  changed("snapshot");
}

function findItem(nodes, id) {
  for (const node of nodes) {
    if (node.id === id) return node;
    const inner = findItem(node.children || [], id);
    if (inner) return inner;
  }
  return null;
}

export function itemById(id) { return findItem(state.agenda, id); }

/** Apply one live event (the payload carries resulting state). Returns what changed. */
export function applyEvent(type, payload) {
  switch (type) {
    case "session.changed":
      state.session = payload;
      if (payload.status === "sealed") state.sealed = true;
      return changed("session");
    case "item.changed": {
      state.current_item_id = payload.current_item_id;
      const item = findItem(state.agenda, payload.current_item_id);
      if (item && payload.timer) item.timer = payload.timer;
      if (item) item.done_at = null;
      const previous = payload.previous_item_id && findItem(state.agenda, payload.previous_item_id);
      if (previous && "previous_done_at" in payload) previous.done_at = payload.previous_done_at;
      return changed("agenda");
    }
    case "timer.changed": {
      const item = findItem(state.agenda, payload.item_id);
      if (item) item.timer = payload;
      return changed("agenda");
    }
    case "floor.changed":
      state.floor = payload;
      return changed("floor");
    case "attendance.changed": {
      const person = state.participants.find((p) => p.participant_id === payload.participant_id);
      if (person) person.attendance = payload.status;
      if (payload.quorum) state.quorum = payload.quorum;
      return changed("attendance");
    }
    case "document.presented":
      state.presented = { ...(state.presented || {}), ...payload };
      return changed("presented");
    case "meeting.updated":
      state.meeting = { ...(state.meeting || {}), ...payload };
      return changed("meeting");
    case "poll.opened":
      state.poll = { ...payload };
      return changed("poll");
    case "poll.closed":
    case "poll.published":
    case "poll.cancelled":
      if (!state.poll || state.poll.id === payload.id || type === "poll.published") {
        state.poll = { ...payload };
      }
      return changed("poll");
    case "announcement":
      state.announcement = payload.cleared ? null : payload;
      return changed("announcement");
    case "meeting.sealed":
      state.sealed = true;
      return changed("sealed");
    default:
      return undefined;
  }
}
