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

async function fetchAndKeep(name, url, keep = true) {
  let response;
  try {
    response = await fetch(url, { headers: authHeaders(), cache: "no-store" });
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
  const blob = (await fromCache(name, url)) || (await fetchAndKeep(name, url, keeps(doc)));
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
      if (!(await cache.match(url))) await fetchAndKeep(name, url, true);
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
