// The tablet's service worker: keeps the app itself (HTML, scripts, styles, socket.io client)
// so it starts without the server. Page images are cached by the app (js/pages.js) in
// Cache Storage; API calls and the socket always go to the network.
const VERSION = "hemicycle-tablet-v5";
const SHELL = [
  "/tablet/",
  "/tablet/css/tablet.css",
  "/tablet/manifest.webmanifest",
  "/tablet/icons/icon-192.png",
  "/tablet/js/app.js",
  "/tablet/js/api.js",
  "/tablet/js/annotations.js",
  "/tablet/js/consultations.js",
  "/tablet/js/db.js",
  "/tablet/js/drafts.js",
  "/tablet/js/gestures.js",
  "/tablet/js/i18n.js",
  "/tablet/js/ink.js",
  "/tablet/js/pages.js",
  "/tablet/js/store.js",
  "/tablet/js/ui.js",
  "/tablet/js/views/amend.js",
  "/tablet/js/views/consult.js",
  "/tablet/js/views/documents.js",
  "/tablet/js/views/find.js",
  "/tablet/js/views/floor.js",
  "/tablet/js/views/home.js",
  "/tablet/js/views/notes.js",
  "/tablet/js/views/pair.js",
  "/tablet/js/views/reader.js",
  "/tablet/js/views/vote.js",
  "/static/js/lib/live.js",
  "/vendor/socket.io.esm.min.js",
];
const SHELL_PATHS = new Set(SHELL);

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(VERSION).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith("hemicycle-tablet-") && name !== VERSION) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

// Network first (a new release shows at once), the kept copy when the server is unreachable.
self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  const path = url.pathname === "/tablet" || url.pathname === "/tablet/index.html" ? "/tablet/" : url.pathname;
  if (!SHELL_PATHS.has(path)) return;
  event.respondWith((async () => {
    const cache = await caches.open(VERSION);
    try {
      const response = await fetch(request);
      if (response.ok) cache.put(path, response.clone());
      return response;
    } catch (err) {
      const kept = await cache.match(path);
      if (kept) return kept;
      throw err;
    }
  })());
});
