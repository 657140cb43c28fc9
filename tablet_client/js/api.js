// REST calls with the device token (Authorization: Bearer), and their errors.
let token = null;
let onUnauthorized = () => {};
let clockOffset = 0; // server time − local time, from the Date header of each answer

/** Now, by the server's clock (countdowns must not depend on a tablet's wrong clock). */
export function serverNow() { return Date.now() + clockOffset; }

export class ApiError extends Error {
  constructor(status, code, message, fields = {}) {
    super(message || code);
    this.status = status;
    this.code = code;
    this.fields = fields;
  }
  get offline() { return this.status === 0; }
}

export function setToken(value) { token = value; }
export function getToken() { return token; }
/** Called with the error when the server no longer accepts the token (401). */
export function whenUnauthorized(fn) { onUnauthorized = fn; }

export function authHeaders(extra = {}) {
  return token ? { ...extra, Authorization: `Bearer ${token}` } : extra;
}

/** fetch() under /api/v1 with the token; JSON in and out. Throws ApiError (status 0: no network). */
export async function api(path, { method = "GET", body, blob = false } = {}) {
  const headers = authHeaders({ Accept: blob ? "*/*" : "application/json" });
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(`/api/v1${path}`, {
      method, headers, cache: "no-store",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new ApiError(0, "offline", String(err && err.message || err));
  }
  const date = Date.parse(response.headers.get("Date") || "");
  if (!Number.isNaN(date)) clockOffset = date + 500 - Date.now(); // Date has 1 s resolution
  if (!response.ok) {
    let error = {};
    try { error = (await response.json()).error || {}; } catch { /* not JSON */ }
    const failure = new ApiError(response.status, error.code || `http_${response.status}`,
                                 error.message || response.statusText, error.fields || {});
    if (response.status === 401) onUnauthorized(failure);
    throw failure;
  }
  if (blob) return response.blob();
  if (response.status === 204) return null;
  return response.json();
}

/** A random (version 4) UUID, for annotations and ballots. */
export function uuid4() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
