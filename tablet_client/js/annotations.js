// My annotations: kept in IndexedDB, sent to the server through an outbox that survives
// reloads and offline spells (replayed in order; the server is idempotent by UUID).
import { ApiError, api } from "./api.js";
import * as db from "./db.js";
import { t } from "./i18n.js";
import { el, toast } from "./ui.js";

let app = null;
let pending = 0;
let flushing = null;
let flushAgain = false; // something was queued while a flush was under way
const pendingListeners = new Set();
const changeListeners = new Set(); // fn(versionId)
const senders = new Map(); // op -> {send(entry), refused(entry, err)}: other queued actions

export function init(theApp) {
  app = theApp;
  refreshPending();
}

export function pendingCount() { return pending; }
export function onPendingChange(fn) { pendingListeners.add(fn); }
/** fn(versionId) whenever annotations of a version change (here or from the server). */
export function onChange(fn) { changeListeners.add(fn); return () => changeListeners.delete(fn); }

function notify(versionId) { for (const fn of changeListeners) fn(versionId); }

async function refreshPending() {
  pending = (await db.outboxAll().catch(() => [])).length;
  for (const fn of pendingListeners) fn(pending);
}

function body(a) {
  return { version_id: a.version_id, page_number: a.page_number, kind: a.kind, shared: a.shared, data: a.data };
}

/** Annotations of a version: what this tablet knows now, then the server's list when reachable. */
export async function load(doc, version, { fromServer = true } = {}) {
  let local = await db.annotationsFor(version.id).catch(() => []);
  if (!fromServer) return local.filter((a) => !a.deleted);
  try {
    const remote = await api(`/documents/${doc.id}/versions/${version.number}/annotations`);
    const queued = new Set((await db.outboxAll()).map((e) => e.id));
    const remoteIds = new Set(remote.map((a) => a.id));
    for (const a of local) {
      if (!remoteIds.has(a.id) && !queued.has(a.id)) await db.removeAnnotation(a.id);
    }
    for (const a of remote) if (!queued.has(a.id)) await db.putAnnotation({ ...a, confidential: !!doc.confidential });
    local = await db.annotationsFor(version.id);
  } catch (err) {
    if (!(err instanceof ApiError && err.offline)) console.warn("annotations", err);
  }
  return local.filter((a) => !a.deleted);
}

/** Keep a new or changed annotation of mine, and queue it for the server. */
export async function save(annotation) {
  await db.putAnnotation(annotation);
  await db.outboxAdd({ op: "put", id: annotation.id, body: body(annotation) });
  await refreshPending();
  flush();
}

export async function erase(annotation) {
  await db.removeAnnotation(annotation.id);
  await db.outboxAdd({ op: "delete", id: annotation.id });
  await refreshPending();
  flush();
}

/** Queue another change for the server (a draft comment: drafts.js), then send. */
export async function queue(entry) {
  await db.outboxAdd(entry);
  await refreshPending();
  flush();
}

/** Send queued entries of ``op`` with ``sender.send(entry)``; ``sender.refused(entry, err)``
 * hears a refusal (the entry is dropped then, not retried). */
export function sendsWith(op, sender) { senders.set(op, sender); }

/** Take queued entries matching ``test`` out of the queue (replaced by a newer one). */
export async function unqueue(test) {
  for (const entry of await db.outboxAll()) if (test(entry)) await db.outboxDelete(entry.seq);
  await refreshPending();
}

/** Send the queue, oldest first; stops at the first network failure (retried on reconnect). */
export function flush() {
  if (flushing) { flushAgain = true; return flushing; }
  flushAgain = false;
  flushing = (async () => {
    try {
      for (const entry of await db.outboxAll()) {
        const sender = senders.get(entry.op);
        try {
          if (sender) await sender.send(entry);
          else if (entry.op === "put") await api(`/annotations/${entry.id}`, { method: "PUT", body: entry.body });
          else if (entry.op === "comment") {
            await api(`/comments/${entry.id}`, { method: "PUT", body: entry.body });
            toast(t("comment_sent"));
          } else await api(`/annotations/${entry.id}`, { method: "DELETE" });
        } catch (err) {
          if (err instanceof ApiError && (err.offline || err.status === 401 || err.status >= 500 || err.status === 429)) break;
          // A comment made offline may reach the server after the deadline: say so.
          if (entry.op === "comment") toast(t("comment_refused", { message: err.message }));
          if (sender) sender.refused(entry, err);
          console.warn("change refused by the server; dropped", entry, err);
        }
        await db.outboxDelete(entry.seq);
        await refreshPending();
      }
    } finally {
      flushing = null;
      await refreshPending();
      if (flushAgain) flush();
    }
  })();
  return flushing;
}

/** An annotation event from the server (my other device, or a shared one). */
export async function received(type, payload) {
  const queued = new Set((await db.outboxAll().catch(() => [])).map((e) => e.id));
  if (queued.has(payload.id)) return; // my own newer change is still on its way
  if (type === "annotation.removed" || payload.deleted) await db.removeAnnotation(payload.id);
  else await db.putAnnotation(payload);
  notify(payload.version_id);
}

/** Drop annotations on confidential documents (wipe). */
export async function forgetConfidential(documents) {
  for (const doc of documents || []) {
    if (!doc.confidential) continue;
    for (const version of doc.versions || []) {
      for (const a of await db.annotationsFor(version.id).catch(() => [])) await db.removeAnnotation(a.id);
    }
  }
}

export function isMine(annotation) {
  return annotation.participant_id === undefined || annotation.participant_id === app?.state.pairing?.participant_id;
}

/** Send what is queued, then download my annotated copy of the version as a PDF. */
export async function downloadCopy(doc, version) {
  await flush();
  const blob = await api(`/documents/${doc.id}/versions/${version.number}/annotated.pdf`, { blob: true });
  const url = URL.createObjectURL(blob);
  const link = el("a", { href: url, download: `${doc.title}.pdf`, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}
