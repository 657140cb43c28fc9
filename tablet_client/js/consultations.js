// Written consultations on the tablet (docs/CONSULTATIONS.md, "On the tablet"): the ones the
// paired member is asked, remembered for reading offline, and the member's answer sent
// through the same outbox as annotations and comments (kept offline, replayed on
// reconnecting; the server takes the same answer again as a no-op). The answer shows
// "queued" until the server's reply holds it, then "stored"; a refusal (closed, final,
// not a member) drops it from the outbox and stays on screen with its reason.
import { ApiError, api, serverNow } from "./api.js";
import * as annotations from "./annotations.js";
import { kvGet, kvSet } from "./db.js";
import { currentLang, t } from "./i18n.js";
import { toast } from "./ui.js";

const OP = "consultation";
let consultations = [];  // the server's payloads, as last known
let answers = {};        // id -> {choice, comment, state: "queued" | "stored" | "refused", code}
let reminded = {};       // id -> the time a reminder came (until answered)
const listeners = new Set();

export function subscribe(fn) { listeners.add(fn); return () => listeners.delete(fn); }

function changed() {
  kvSet("consultations", { consultations, answers, reminded }).catch(() => {});
  for (const fn of [...listeners]) {
    try { fn(); } catch (err) { console.error(err); }
  }
}

/** What this tablet remembers, and the outbox's sender for answers. Call once, when paired. */
export async function init() {
  const saved = await kvGet("consultations").catch(() => null);
  ({ consultations = [], answers = {}, reminded = {} } = saved || {});
  annotations.sendsWith(OP, { send, refused });
}

/** The consultations I am asked, from the server when reachable, else as last known. */
export async function load() {
  try {
    consultations = await api("/consultations");
  } catch (err) {
    if (!(err instanceof ApiError && err.offline)) console.warn("consultations", err);
    return consultations;
  }
  for (const c of consultations) settle(c);
  changed();
  return consultations;
}

/** Whether answers are taken now, by the server's clock (a deadline may pass on screen).
 * Worked out here: a live message's ``open`` only says whether it is closed. */
export function isOpen(c) {
  return !!c && !c.closed_at && !notYet(c) && Date.parse(c.closes_at) > serverNow();
}

/** Sent with a later opening: answers are taken from ``opens_at`` on. */
export function notYet(c) {
  return !!c && !c.closed_at && !!c.opens_at && Date.parse(c.opens_at) > serverNow();
}

function ahead(c) { return !c.closed_at && Date.parse(c.closes_at) > serverNow(); }

/** Open ones (and those yet to open) first, soonest deadline first; then the closed ones,
 * latest first. */
export function ordered(list = consultations) {
  return [...list].sort((a, b) => {
    const openA = ahead(a);
    const openB = ahead(b);
    if (openA !== openB) return openA ? -1 : 1;
    const byDeadline = Date.parse(a.closes_at) - Date.parse(b.closes_at);
    return (openA ? byDeadline : -byDeadline) || a.id - b.id;
  });
}

export function all() { return ordered(); }
export function byId(id) { return consultations.find((c) => c.id === id) || null; }
export function wasReminded(id) { return !!reminded[id]; }

/** My answer as this tablet knows it: queued or refused here, else the server's. */
export function answerOf(c) {
  const local = answers[c.id];
  if (local) return local;
  return c.my_answer ? { ...c.my_answer, state: "stored" } : null;
}

/** Whether the open consultations still wait for an answer from me (for the tab). */
export function waiting() {
  return consultations.some((c) => isOpen(c) && !answerOf(c));
}

/** The refusal's reason in the member's language, by the server's error code. */
export function reason(code, message = "") {
  if (code === "consultation_closed") return t("consult_refused_closed");
  if (code === "answer_final") return t("consult_refused_final");
  if (code === "not_a_member" || code === "consultation_not_found") return t("consult_refused_member");
  return t("consult_refused_other", { message });
}

/** Queue my answer (sent now when online, at the next connection otherwise). */
export async function submit(c, choice, comment) {
  const body = { choice, comment: (comment || "").trim() };
  answers[c.id] = { ...body, state: "queued" };
  delete reminded[c.id];
  await annotations.unqueue((entry) => entry.op === OP && entry.consultation_id === c.id);
  await annotations.queue({ op: OP, id: `consultation:${c.id}`, consultation_id: c.id, body });
  changed();  // "queued" once the outbox holds it (it survives a reload or a closed tab)
}

/** Forget every consultation and answer on this tablet (a remote wipe, unpairing). */
export function forget() {
  consultations = [];
  answers = {};
  reminded = {};
  changed();
}

/** Forget a refusal the member has read. */
export function dismiss(id) {
  if (answers[id]?.state === "refused") { delete answers[id]; changed(); }
}

function replace(payload) {
  const index = consultations.findIndex((c) => c.id === payload.id);
  if (index === -1) return false;
  consultations[index] = { ...consultations[index], ...payload };
  settle(consultations[index]);
  return true;
}

/** A queued answer the server's view already holds is stored. */
function settle(c) {
  const local = answers[c.id];
  const mine = c.my_answer;
  if (mine) delete reminded[c.id];
  if (local && local.state !== "refused" && mine && mine.choice === local.choice
      && (mine.comment || "") === local.comment) {
    delete answers[c.id];
  }
}

async function send(entry) {
  const stored = await api(`/consultations/${entry.consultation_id}/answer`, { method: "PUT", body: entry.body });
  const local = answers[entry.consultation_id];
  // Only the answer still wanted becomes "stored"; a newer one queued since stays queued.
  if (!replace(stored)) consultations.push(stored);
  if (local && local.state === "queued" && local.choice === entry.body.choice && local.comment === entry.body.comment) {
    delete answers[entry.consultation_id];
  }
  changed();
}

function refused(entry, err) {
  answers[entry.consultation_id] = { ...entry.body, state: "refused", code: err.code };
  toast(reason(err.code, err.message));
  changed();
  load();
}

/** A live ``consultation`` message for me (docs/PROTOCOL.md). */
export function received(type, payload) {
  if (!payload || typeof payload.id !== "number") return;
  const known = replace(payload);
  if (type === "consultation.reminder") {
    reminded[payload.id] = new Date().toISOString();
    toast(t("consult_reminder", { title: payload.title }));
  } else if (type === "consultation.changed") {
    toast(t("consult_extended", { title: payload.title, deadline: when(payload.closes_at) }));
  } else if (type === "consultation.closed") {
    toast(t("consult_closed_notice", { title: payload.title }));
  } else if (type === "consultation.opened") {
    toast(t("consult_opened", { title: payload.title }));
  }
  // A new one (or one this tablet never saw) comes with its text from the server.
  if (!known) load();
  else changed();
}

/** A date and time as the member reads it, in the tablet's language and time zone. */
export function when(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  return new Intl.DateTimeFormat(currentLang() === "en" ? "en-GB" : "vi-VN",
    { dateStyle: "medium", timeStyle: "short" }).format(date);
}
