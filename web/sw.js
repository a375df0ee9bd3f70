// The app shell offline: the page, its script, wasm, styles and icons are kept in a cache, so the
// app starts without a network and on a bad mobile connection. Mail is never cached here: /api
// and /ws always go to the relay (what the app keeps to read offline is in IndexedDB, per
// account, deleted at sign-out).
const CACHE = "webmail-shell-v4";
// The page of the release before, kept for what it names.
const PREVIOUS = "/previous-release";
// How long a visit waits for the page from the network before it takes the kept one (ms).
const PAGE_PATIENCE = 3000;

// The paths a page of the app names: attributes name most; the loader (Trunk.toml) names the
// app's files (the script, the wasm and its other parts) in quotes.
function namedIn(html) {
  return new Set([...html.matchAll(/(?:src|href)="(\/[^"]+)"|'(\/[^']+\.(?:js|wasm))'/g)]
    .map((m) => m[1] || m[2])
    .filter((path) => !path.startsWith("/api/")));
}

// Keeps the page and everything it names, so that the very first visit already works offline
// (those files were fetched before this worker was there to keep them), and, with a page that
// changed (a new release), its parts before they are first used (the editor opens offline after
// an update too). Most visits bring the page already kept: then nothing is done, and the app's
// start (whose files this worker serves meanwhile) is not slowed. What is missing is fetched
// first, all or nothing, and only then the page that names it is kept. Files of the release
// before the newest stay: a tab still open on it may yet need its parts. Anything but the app's
// page (an error page from a proxy) is refused.
async function keepShell(page) {
  const html = page.ok && (page.headers.get("content-type") || "").startsWith("text/html")
    ? await page.clone().text()
    : "";
  const names = namedIn(html);
  if (![...names].some((path) => path.startsWith("/webmail-web-"))) {
    throw new Error("not the app's page");
  }
  const cache = await caches.open(CACHE);
  const current = await cache.match("/");
  const currentHtml = current ? await current.clone().text() : "";
  if (html === currentHtml) {
    return;
  }
  const kept = await cache.keys();
  const have = new Set(kept.map((request) => new URL(request.url).pathname));
  await cache.addAll([...names].filter((path) => !have.has(path)));
  const currentNames = namedIn(currentHtml);
  if (current && [...names].some((path) => !currentNames.has(path))) {
    await cache.put(PREVIOUS, current);
  }
  await cache.put("/", page);
  const previous = await cache.match(PREVIOUS);
  const before = previous ? namedIn(await previous.text()) : new Set();
  await Promise.all(kept
    .filter((request) => {
      const path = new URL(request.url).pathname;
      return path !== "/" && path !== PREVIOUS && !names.has(path) && !before.has(path);
    })
    .map((request) => cache.delete(request)));
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
    // The page: fresh when online (a new release shows at once), the kept one when not, or
    // when the network has not answered within PAGE_PATIENCE (a link that hangs, as a phone's
    // does between cells). A fresh page that comes later is still kept, for the next visit.
    const fresh = fetch(event.request);
    // Registered first, so the copy is taken before the page reads the response.
    event.waitUntil(fresh.then((response) => response.ok && keepShell(response.clone()))
      .catch(() => {}));
    // An error page (a gateway's while the relay restarts) is shown only where none is kept.
    const usable = fresh.then((response) => response.ok
      ? response
      : caches.match("/").then((page) => page || response));
    const patience = new Promise((resolve) => setTimeout(resolve, PAGE_PATIENCE));
    const kept = patience.then(() => caches.match("/")).then((page) => page || usable);
    event.respondWith(Promise.race([usable, kept]).catch(() => caches.match("/")));
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
