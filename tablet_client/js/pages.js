// Page images: fetched with the device token, kept in Cache Storage for offline reading.
// Confidential documents live in their own cache, so a wipe removes exactly them.
import { ApiError, authHeaders } from "./api.js";

const objectUrls = new Map(); // url -> blob: URL, for this page load

export function cacheName(meetingId, confidential) {
  return confidential ? `hemicycle-confidential-${meetingId}` : `hemicycle-pages-${meetingId}`;
}

export function pageUrl(doc, version, page, size = "large") {
  return `/api/v1/documents/${doc.id}/versions/${version.number}/pages/${page}.jpg?size=${size}`;
}

// Page links (docs/DEPLOYMENT.md, "Page images"): behind nginx with page links, the worker
// gives a reader of a non-confidential version a short-lived query that nginx checks alone.
// Pages are still kept under their plain URL; the token still goes with every request, so
// a link that expired or was refused is answered the ordinary way.
const links = new Map(); // "document/version" -> { query, until } (query null: none offered)

async function pageLink(doc, version) {
  const key = `${doc.id}/${version.number}`;
  const known = links.get(key);
  if (known && known.until > Date.now()) return known.query;
  let query = null;
  let until = Date.now() + 60_000; // none offered: ask again in a minute
  try {
    const answer = await fetch(`/api/v1/documents/${doc.id}/versions/${version.number}/pages/access`,
                               { headers: authHeaders(), cache: "no-store" });
    query = answer.status === 204 ? answer.headers.get("X-Hemicycle-Page-Link") : null;
    const expires = query ? Number(new URLSearchParams(query).get("pe")) * 1000 : 0;
    const serverNow = Date.parse(answer.headers.get("Date") || "");
    // The server's clock decides the expiry: measure the link's life from its Date header.
    if (expires && serverNow) until = Date.now() + (expires - serverNow) - 3000;
    else if (query) until = Date.now() + 5000;
  } catch (err) {
    until = Date.now() + 10_000; // offline: pages come from the cache meanwhile
  }
  links.set(key, { query, until });
  return query;
}

async function linked(doc, version, url) {
  if (doc.confidential) return url; // never offered: confidential pages are checked each time
  const query = await pageLink(doc, version);
  return query ? `${url}&${query}` : url;
}

async function fromCache(name, url) {
  if (!("caches" in self) || !(await caches.has(name))) return null;
  const cache = await caches.open(name);
  const hit = await cache.match(url);
  return hit ? hit.blob() : null;
}

// After a wipe (sealing, remote wipe) confidential pages may still be read online, but
// are no longer kept on the tablet.
const wiped = () => typeof document !== "undefined" && document.body.dataset.wiped === "true";
const keeps = (doc) => !(doc.confidential && wiped());

async function fetchAndKeep(name, url, keep = true, from = url) {
  let response;
  try {
    response = await fetch(from, { headers: authHeaders(), cache: "no-store" });
  } catch (err) {
    throw new ApiError(0, "offline", String(err));
  }
  if (!response.ok) throw new ApiError(response.status, `http_${response.status}`, response.statusText);
  const blob = await response.blob();
  if (keep && "caches" in self) {
    const cache = await caches.open(name);
    await cache.put(url, new Response(blob, { headers: { "Content-Type": blob.type || "image/jpeg" } }));
  }
  return blob;
}

/** A blob: URL for the page image, from the cache when there, else from the server (and kept). */
export async function pageImage(meetingId, doc, version, page, size = "large") {
  const url = pageUrl(doc, version, page, size);
  if (objectUrls.has(url)) return objectUrls.get(url);
  const name = cacheName(meetingId, doc.confidential);
  const blob = (await fromCache(name, url))
    || (await fetchAndKeep(name, url, keeps(doc), await linked(doc, version, url)));
  const objectUrl = URL.createObjectURL(blob);
  objectUrls.set(url, objectUrl);
  return objectUrl;
}

/** How many of the document's pages (both sizes) are in the cache. */
export async function cachedPages(meetingId, doc, version) {
  if (!("caches" in self)) return 0;
  const name = cacheName(meetingId, doc.confidential);
  if (!(await caches.has(name))) return 0; // caches.open() would create it again after a wipe
  const cache = await caches.open(name);
  let count = 0;
  for (let page = 1; page <= version.page_count; page += 1) {
    if (await cache.match(pageUrl(doc, version, page, "large"))) count += 1;
  }
  return count;
}

/** Fetch every page (up to ``upTo``) not cached yet; progress(done, total) after each. */
export async function saveForOffline(meetingId, doc, version, progress = () => {}, upTo = version.page_count) {
  if (!keeps(doc)) return;
  const name = cacheName(meetingId, doc.confidential);
  const cache = await caches.open(name);
  const total = version.page_count;
  for (let page = 1; page <= Math.min(upTo, total); page += 1) {
    for (const size of ["large", "thumb"]) {
      const url = pageUrl(doc, version, page, size);
      if (!keeps(doc)) return;                     // wiped meanwhile
      if (!(await cache.match(url))) await fetchAndKeep(name, url, true, await linked(doc, version, url));
    }
    progress(page, total);
  }
}

/** Remove the meeting's confidential page images (sealing, remote wipe). */
export async function wipeConfidential(meetingId) {
  for (const [url, objectUrl] of objectUrls) {
    URL.revokeObjectURL(objectUrl);
    objectUrls.delete(url);
  }
  if ("caches" in self) await caches.delete(cacheName(meetingId, true));
}

/** Remove everything cached for the meeting (unpairing). */
export async function wipeAll(meetingId) {
  await wipeConfidential(meetingId);
  if ("caches" in self) await caches.delete(cacheName(meetingId, false));
}
