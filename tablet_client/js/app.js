// The tablet app: pairing, the live connection, the views and the connection indicator.
import { createLive } from "/static/js/lib/live.js";
import { ApiError, api, setToken, whenUnauthorized } from "./api.js";
import * as annotations from "./annotations.js";
import * as consultations from "./consultations.js";
import { clearAll, kvGet, kvSet } from "./db.js";
import * as drafts from "./drafts.js";
import { onLangChange, t, toggleLang } from "./i18n.js";
import { saveForOffline, wipeAll, wipeConfidential } from "./pages.js";
import * as store from "./store.js";
import { toast } from "./ui.js";
import * as documentsView from "./views/documents.js";
import * as amendView from "./views/amend.js";
import * as consultView from "./views/consult.js";
import * as floorView from "./views/floor.js";
import * as homeView from "./views/home.js";
import * as pairView from "./views/pair.js";
import * as readerView from "./views/reader.js";
import * as voteView from "./views/vote.js";

const VIEWS = { home: homeView, docs: documentsView, doc: readerView, vote: voteView, floor: floorView, amend: amendView,
  consult: consultView };
const $ = (selector) => document.querySelector(selector);

const app = {
  live: null,
  state: store.state,
  // Follow the presenter's page in the reader; remembered through a reload.
  get follow() { return sessionStorage.getItem("hemicycle.follow") !== "false"; },
  set follow(value) { sessionStorage.setItem("hemicycle.follow", value ? "true" : "false"); },
  connection: "connecting",
  view: null,
  cleanup: null,
  navigate(hash) { if (location.hash !== hash) location.hash = hash; else route(); },
  async refreshDocuments() {
    try {
      store.state.documents = await api(`/meetings/${store.state.pairing.meeting_id}/documents`);
      kvSet("documents", store.state.documents).catch(() => {});
      store.changed("documents");
      prefetchDocuments();
    } catch (err) {
      if (!(err instanceof ApiError && err.offline)) console.warn("documents", err);
    }
  },
  async wipe(reason) {
    document.body.dataset.wiped = "true"; // first: nothing confidential is kept from now on
    voteView.forgetBallots(); // receipts and ballots on their way: a secret vote stays secret
    if (reason === "wipe") {
      // A remote wipe is for a lost tablet: every page, note and remembered state of the
      // meeting goes. Sealing keeps the ordinary papers readable (docs/TABLET.md).
      await wipeAll(store.state.pairing.meeting_id);
      await clearAll();
      consultations.forget();
      store.state.documents = [];
    }
    await kvSet("wiped_at", new Date().toISOString());
    await wipeConfidential(store.state.pairing.meeting_id);
    await annotations.forgetConfidential(store.state.documents);
    toast(t(reason === "sealed" ? "sealed" : "wiped"));
    store.changed("wiped");
    // A secretary's remote wipe is confirmed to the server (staff see it); a wipe
    // request left unconfirmed is asked again at the next connection.
    if (reason === "wipe" && app.live) app.live.command("device.wiped").catch((err) => console.warn("wipe confirmation", err));
  },
};

// Battery and connection, for the control room: sent on connecting and when the browser
// reports a change. The server keeps one report per 30 s; a later one is sent again then.
const deviceStatus = { battery: null, charging: null, connection: null };
let statusTimer = null;
async function watchDeviceStatus() {
  try {
    if (navigator.getBattery) {
      const battery = await navigator.getBattery();
      const read = () => {
        deviceStatus.battery = Number.isFinite(battery.level) ? battery.level : null;
        deviceStatus.charging = typeof battery.charging === "boolean" ? battery.charging : null;
      };
      read();
      for (const name of ["levelchange", "chargingchange"]) {
        battery.addEventListener(name, () => { read(); reportStatus(); });
      }
    }
  } catch (err) {
    console.warn("battery", err);
  }
  const link = navigator.connection;
  if (link) {
    const read = () => { deviceStatus.connection = String(link.type || link.effectiveType || "").slice(0, 32) || null; };
    read();
    link.addEventListener?.("change", () => { read(); reportStatus(); });
  }
}
async function reportStatus() {
  clearTimeout(statusTimer);
  if (!app.live || app.connection !== "online") return;
  try {
    const ack = await app.live.command("device.status", { ...deviceStatus });
    if (!ack.stored) statusTimer = setTimeout(reportStatus, (ack.retry_after || 30) * 1000);
  } catch (err) {
    if (err.code !== "offline" && err.code !== "timeout") console.warn("device status", err);
  }
}

// Offline copies of every document, one page at a time, in the background.
let prefetching = false;
let prefetchAgain = false;
async function prefetchDocuments() {
  if (prefetching) { prefetchAgain = true; return; }
  if (store.state.sealed) return;
  prefetching = true;
  prefetchAgain = false;
  try {
    for (const doc of store.state.documents) {
      const version = doc.current_version;
      if (!version || !version.pages_rendered) continue;
      // Only pages the server has drawn: asking for the others would make it draw them on
      // demand for every tablet at once. `document.rendered` brings the rest later.
      await saveForOffline(store.state.pairing.meeting_id, doc, version, (done, total) => {
        documentsView.progress(doc.id, done, total);
      }, version.pages_rendered);
    }
  } catch (err) {
    if (!(err instanceof ApiError && err.offline)) console.warn("offline copy", err);
  } finally {
    prefetching = false;
    if (prefetchAgain) prefetchDocuments();
  }
}

function renderIndicator() {
  const box = $("#connection");
  const pending = annotations.pendingCount();
  box.dataset.state = app.connection;
  box.querySelector(".label").textContent = t(app.connection);
  const extra = box.querySelector(".pending");
  extra.textContent = pending ? t("pending_sync", { count: pending }) : "";
  extra.hidden = !pending;
}

function renderChrome() {
  document.documentElement.lang = document.documentElement.lang || "vi";
  $("#lang").textContent = t("language");
  $("#meeting-title").textContent = store.state.meeting?.title || t("app_name");
  for (const link of document.querySelectorAll("#tabs a")) {
    link.textContent = t(link.dataset.label);
    link.classList.toggle("active", link.dataset.view === (app.view === "doc" ? "docs" : app.view));
  }
  const poll = store.state.poll;
  $("#tabs a[data-view=vote]").classList.toggle("attention", !!poll && poll.status === "open");
  $("#tabs a[data-view=consult]").classList.toggle("attention", consultations.waiting());
  const banner = $("#announcement");
  banner.textContent = store.state.announcement?.text || "";
  banner.hidden = !store.state.announcement?.text;
  renderIndicator();
}

function route() {
  if (!store.state.pairing) return;
  const [name, ...args] = (location.hash.replace(/^#/, "") || "home").split("/");
  const view = VIEWS[name] ? name : "home";
  if (app.cleanup) app.cleanup();
  app.view = view;
  const main = $("#view");
  main.replaceChildren();
  main.dataset.view = view;
  app.cleanup = VIEWS[view].render(main, app, args) || null;
  renderChrome();
}

function onEvent(payload, message) {
  const type = message.type;
  store.applyEvent(type, payload);
  if (type.startsWith("document.") && type !== "document.presented" && type !== "document.rendered") {
    app.refreshDocuments();
  }
  if (type === "document.rendered") app.refreshDocuments();
  if (type === "document.pushed") {
    app.refreshDocuments().then(() => {
      const doc = store.state.documents.find((d) => d.id === payload.document_id);
      if (doc) {
        toast(t("new_document", { title: doc.title }));
        app.follow = false;
        app.navigate(`#doc/${doc.id}/1`);
      }
    });
  }
  if (type === "annotation.saved" || type === "annotation.removed") annotations.received(type, payload);
  if (type === "draft.opened" || type === "draft.changed") {
    drafts.load(store.state.pairing.meeting_id).then(() => store.changed("drafts"));
  }
  if (type === "agenda.changed" || type === "participants.changed") app.live.resync({ snapshot: true });
  if (type === "meeting.sealed") app.wipe("sealed");
  // device.wipe goes to the delegate's connections: only the tablet it names obeys.
  if (type === "device.wipe" && (!payload.device_id || payload.device_id === store.state.pairing?.device_id)) {
    app.wipe("wipe");
  }
  if (type === "poll.opened") voteView.showBallot(app);
}

async function unpair(message) {
  const meetingId = store.state.pairing?.meeting_id;
  if (app.live) app.live.close();
  app.live = null;
  store.state.pairing = null;
  setToken(null);
  localStorage.removeItem("hemicycle.pairing");
  voteView.forgetBallots();
  await clearAll();
  consultations.forget();
  if (meetingId) await wipeAll(meetingId);
  showPairing(message);
}

function showPairing(message) {
  document.body.dataset.paired = "false";
  const main = $("#view");
  main.replaceChildren();
  main.dataset.view = "pair";
  pairView.render(main, { message, onPaired: start });
  $("#lang").textContent = t("language");
}

let chromeSubscribed = false;

async function start(pairing) {
  document.body.dataset.paired = "true";
  store.state.pairing = pairing;
  setToken(pairing.token);
  await store.recall();
  store.state.documents = store.state.documents?.length ? store.state.documents
    : (await kvGet("documents").catch(() => null)) || [];
  if (await kvGet("wiped_at").catch(() => null)) document.body.dataset.wiped = "true";
  annotations.init(app);
  await consultations.init();
  const live = createLive({ auth: { token: pairing.token }, meetingId: pairing.meeting_id });
  app.live = live;
  live.onSnapshot((snapshot, revision) => {
    const wasSealed = store.state.sealed;
    store.applySnapshot(snapshot, revision);
    if (store.state.sealed && !wasSealed) app.wipe("sealed");
    if (snapshot.poll) voteView.showBallot(app);
  });
  live.on("*", onEvent);
  live.onMessage("revoked", () => unpair(t("pair_revoked")));
  live.onMessage("wipe", () => app.wipe("wipe"));
  // Written consultations belong to no meeting: their own messages, to the member's account.
  live.onMessage("consultation", (message) => consultations.received(message?.type, message?.payload));
  live.state.subscribe((value, detail) => {
    const was = app.connection;
    app.connection = value;
    renderIndicator();
    if (value === "online" && was !== "online") {
      annotations.flush();
      app.refreshDocuments();
      consultations.load(); // what was missed while away: the messages are not replayed
      reportStatus();
    }
    if (value === "refused" && detail && ["invalid_token", "revoked"].includes(detail.code)) {
      unpair(t("pair_revoked"));
    }
  });
  if (!chromeSubscribed) {
    store.subscribe(renderChrome);
    consultations.subscribe(renderChrome);
    watchDeviceStatus().then(() => { if (app.connection === "online") reportStatus(); });
  }
  chromeSubscribed = true;
  route();
  app.refreshDocuments();
}

async function boot() {
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/tablet/service-worker.js", { scope: "/tablet/" })
      .catch((err) => console.warn("service worker", err));
  }
  $("#lang").addEventListener("click", toggleLang);
  onLangChange(() => (store.state.pairing ? route() : showPairing()));
  window.addEventListener("hashchange", () => {
    // A QR link opened while the app is already showing (same page, new fragment).
    if (/^#(pair|checkin)=/.test(location.hash)) { linkFromHash(); return; }
    route();
  });
  annotations.onPendingChange(renderIndicator);
  whenUnauthorized((err) => {
    if (["invalid_token", "revoked", "not_authenticated"].includes(err.code)) unpair(t("pair_revoked"));
  });

  await linkFromHash();
}

/** Start from the address: a pairing QR link (#pair=<secret>), a door link (#checkin=<code>), or neither. */
async function linkFromHash() {
  const hash = new URLSearchParams(location.hash.replace(/^#/, ""));
  const secret = hash.get("pair");
  const checkin = hash.get("checkin");
  if (checkin) sessionStorage.setItem("hemicycle.checkin", checkin);
  if (secret || checkin) history.replaceState(null, "", `${location.pathname}#home`); // one-time secrets leave the address bar
  let pairing = (await kvGet("pairing").catch(() => null))
    || JSON.parse(localStorage.getItem("hemicycle.pairing") || "null");
  if (secret) {
    if (store.state.pairing) await unpair();
    const paired = await pairView.pair({ code: secret }).catch((err) => {
      showPairing(err.offline ? t("pair_offline") : t("pair_failed", { message: err.message }));
      return null;
    });
    if (!paired) return;
    pairing = paired;
  }
  if (!pairing) {
    showPairing();
    return;
  }
  if (store.state.pairing) route();
  else start(pairing);
}

window.hemicycle = app; // for the browser tests and for debugging on a tablet
boot();
