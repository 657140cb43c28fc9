// IndexedDB: the tablet's own memory. Three stores:
//   kv          — the pairing (token, meeting, participant) and the last known meeting state;
//   annotations — my (and shared) annotations by id, as last seen or drawn;
//   outbox      — annotation changes not yet acknowledged by the server, replayed in order.
const NAME = "hemicycle-tablet";
const VERSION = 1;
let opening = null;

function open() {
  if (opening) return opening;
  opening = new Promise((resolve, reject) => {
    const request = indexedDB.open(NAME, VERSION);
    request.onupgradeneeded = () => {
      const db = request.result;
      db.createObjectStore("kv");
      const notes = db.createObjectStore("annotations", { keyPath: "id" });
      notes.createIndex("version_id", "version_id");
      db.createObjectStore("outbox", { keyPath: "seq", autoIncrement: true });
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  return opening;
}

function done(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function store(name, mode = "readonly") {
  const db = await open();
  return db.transaction(name, mode).objectStore(name);
}

export async function kvGet(key) { return done((await store("kv")).get(key)); }
export async function kvSet(key, value) { return done((await store("kv", "readwrite")).put(value, key)); }
export async function kvDelete(key) { return done((await store("kv", "readwrite")).delete(key)); }

export async function annotationsFor(versionId) {
  return done((await store("annotations")).index("version_id").getAll(versionId));
}
export async function putAnnotation(annotation) {
  return done((await store("annotations", "readwrite")).put(annotation));
}
export async function removeAnnotation(id) {
  return done((await store("annotations", "readwrite")).delete(id));
}

export async function outboxAdd(entry) { return done((await store("outbox", "readwrite")).add(entry)); }
export async function outboxAll() { return done((await store("outbox")).getAll()); }
export async function outboxDelete(seq) { return done((await store("outbox", "readwrite")).delete(seq)); }

/** Forget everything (unpairing). */
export async function clearAll() {
  const db = await open();
  const tx = db.transaction(["kv", "annotations", "outbox"], "readwrite");
  for (const name of ["kv", "annotations", "outbox"]) tx.objectStore(name).clear();
  return new Promise((resolve) => { tx.oncomplete = resolve; tx.onerror = resolve; });
}
