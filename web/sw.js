// The app shell offline: the page, its script, wasm, styles and icons are kept in a cache, so the
// app starts without a network and on a bad mobile connection. Mail is never cached here: /api
// and /ws always go to the relay (what the app keeps to read offline is in IndexedDB, per
// account, deleted at sign-out).
const CACHE = "webmail-shell-v4";

// Keeps the page and everything it names (script, wasm and the app's other parts, styles,
// icons), and lets go of what it no longer names (an earlier release's files). Run at install,
// so that the very first visit already works offline (those files were fetched before this
// worker was there to keep them), and with each fresh page: a new release's parts are kept
// before they are first used, so the editor opens offline after an update too.
async function keepShell(page) {
  const cache = await caches.open(CACHE);
  const html = await page.clone().text();
  await cache.put("/", page);
  // Attributes name most; the loader (Trunk.toml) names the app's files in quotes.
  const named = new Set([...html.matchAll(/(?:src|href)="(\/[^"]+)"|'(\/[^']+\.(?:js|wasm))'/g)]
    .map((m) => m[1] || m[2])
    .filter((path) => !path.startsWith("/api/")));
  const kept = await cache.keys();
  await Promise.all(kept
    .filter((request) => !named.has(new URL(request.url).pathname) && new URL(request.url).pathname !== "/")
    .map((request) => cache.delete(request)));
  const have = new Set(kept.map((request) => new URL(request.url).pathname));
  await cache.addAll([...named].filter((path) => !have.has(path)));
}

self.addEventListener("install", (event) => {
  event.waitUntil(fetch("/", { cache: "no-cache" }).then(keepShell).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin || url.pathname.startsWith("/api/") || url.pathname === "/ws") {
    return;
  }
  if (event.request.mode === "navigate") {
    // The page: fresh when online (a new release), the cached one when not.
    event.respondWith(
      fetch(event.request)
        .then((response) => {
          if (response.ok) {
            event.waitUntil(keepShell(response.clone()).catch(() => {}));
          }
          return response;
        })
        .catch(() => caches.match("/")),
    );
    return;
  }
  // Script, wasm, styles, icons: their names change with their content, so the cache is right.
  event.respondWith(
    caches.match(event.request).then((cached) => cached || fetch(event.request).then((response) => {
      if (response.ok) {
        const copy = response.clone();
        caches.open(CACHE).then((cache) => cache.put(event.request, copy));
      }
      return response;
    })),
  );
});
