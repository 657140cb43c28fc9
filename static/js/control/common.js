// Helpers shared by the control room, the chair's page and the projector:
// building DOM nodes, translated strings, REST calls with the CSRF token,
// clocks and the connection indicator. No inline styles (CSP): classes only.

/** Translated strings, put on the page root as data-strings='{...}' by the template. */
export const strings = JSON.parse(document.querySelector("[data-strings]")?.dataset.strings || "{}");

/** t("key", {n: 3}) → the translated string with {n} replaced. */
export function t(key, values = {}) {
  let text = strings[key] ?? key;
  for (const [name, value] of Object.entries(values)) {
    text = text.replaceAll(`{${name}}`, String(value));
  }
  return text;
}

/** el("button", {class: "btn", onclick}, "text", child...) */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") node.addEventListener(name.slice(2), value);
    else if (name === "class") node.className = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    else if (value === true) node.setAttribute(name, "");
    else node.setAttribute(name, value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/**
 * Replace a node's children. Keyboard focus inside it survives the redraw: the new
 * control with the same accessible name (row buttons name their row) gets it back.
 */
export function replace(node, ...children) {
  const active = document.activeElement;
  const label = active && node.contains(active) ? active.getAttribute("aria-label") || active.textContent : null;
  node.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  if (label === null) return;
  const again = [...node.querySelectorAll("button, a, input, select")]
    .find((c) => (c.getAttribute("aria-label") || c.textContent) === label);
  if (again && !again.disabled) again.focus();
}

const csrf = document.querySelector('meta[name="csrf-token"]')?.content;

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message || `HTTP ${status}`);
    this.status = status;
    this.code = body?.error?.code;
    this.fields = body?.error?.fields;
  }
}

/** fetch() a JSON endpoint of this server with the session cookie and CSRF token. */
export async function api(method, path, body, { raw = false, headers = {} } = {}) {
  const options = { method, credentials: "same-origin", headers: { Accept: "application/json", ...headers } };
  if (csrf && method !== "GET") options.headers["X-CSRFToken"] = csrf;
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  if (!response.ok) {
    let data = null;
    try { data = await response.json(); } catch { /* not JSON */ }
    throw new ApiError(response.status, data);
  }
  if (raw) return response;
  if (response.status === 204) return null;
  return response.json();
}

/** mm:ss (or h:mm:ss) for a number of seconds; negative values get a minus sign. */
export function clock(seconds) {
  const sign = seconds < 0 ? "−" : "";
  let s = Math.abs(Math.round(seconds));
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const pad = (n) => String(n).padStart(2, "0");
  return sign + (h ? `${h}:${pad(m)}:${pad(s)}` : `${pad(m)}:${pad(s)}`);
}

/** Seconds an agenda item's clock shows now (server time = Date.now() - skew). */
export function timerSeconds(timer, skewMs = 0) {
  if (!timer) return 0;
  let elapsed = timer.elapsed_seconds || 0;
  if (timer.running_since) elapsed += (Date.now() - skewMs - Date.parse(timer.running_since)) / 1000;
  return Math.max(0, elapsed);
}

/** Seconds left in a speech (negative once over time), or null when it has no limit. */
export function speechLeft(speech, skewMs = 0) {
  if (!speech || !speech.ends_at) return null;
  return (Date.parse(speech.ends_at) - (Date.now() - skewMs)) / 1000;
}

/** Seconds a speech has lasted so far. */
export function speechElapsed(speech, skewMs = 0) {
  if (!speech || !speech.started_at) return 0;
  return Math.max(0, (Date.now() - skewMs - Date.parse(speech.started_at)) / 1000);
}

/** Runs fn every second, aligned to the wall clock, so countdowns tick together. */
export function everySecond(fn) {
  const tick = () => {
    try { fn(); } catch (err) { console.error(err); }
    setTimeout(tick, 1000 - (Date.now() % 1000) + 5);
  };
  tick();
}

/** The always-visible connection indicator: <span id="connection">. */
export function showConnection(live, node) {
  if (!node) return;
  live.state.subscribe((state) => {
    node.dataset.state = state;
    node.textContent = t(`conn.${state}`);
  });
}

/** A short message at the bottom of the screen; errors stay until the next one. */
export function notify(message, kind = "info") {
  let box = document.getElementById("toast");
  if (!box) {
    box = el("div", { id: "toast", class: "toast", role: "status", "aria-live": "polite" });
    document.body.append(box);
  }
  box.className = `toast ${kind}`;
  box.textContent = message;
  box.hidden = false;
  clearTimeout(notify.timer);
  notify.timer = setTimeout(() => { box.hidden = true; }, kind === "error" ? 8000 : 3000);
}

/**
 * Runs an action from a button: marks it busy meanwhile (a second press does nothing),
 * reports failures. Not `disabled`: that would take the keyboard focus away.
 */
export async function act(button, action, done) {
  if (button?.getAttribute("aria-busy") === "true") return null;
  button?.setAttribute("aria-busy", "true");
  try {
    const result = await action();
    if (done) notify(done);
    return result;
  } catch (err) {
    notify(err.message || String(err), "error");
    return null;
  } finally {
    button?.removeAttribute("aria-busy");
  }
}

/** The agenda tree flattened in reading order, with each item's depth. */
export function flattenAgenda(nodes, depth = 0, out = []) {
  for (const node of nodes || []) {
    out.push({ ...node, depth });
    flattenAgenda(node.children, depth + 1, out);
  }
  return out;
}

/** True when a key press is meant for a form field, not a shortcut. */
export function typingIn(event) {
  const target = event.target;
  return event.ctrlKey || event.metaKey || event.altKey
    || ["INPUT", "TEXTAREA", "SELECT"].includes(target?.tagName) || target?.isContentEditable;
}
