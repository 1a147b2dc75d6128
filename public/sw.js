// Paktum's service worker: precaches the app shell so the app starts with no network.
// Trunk hashes asset names, so on install the worker reads index.html and caches
// everything it links. BUILD is stamped per build by Trunk's post-build hook (after
// both pages are built), so a new deployment is a new worker; it waits until the page
// accepts the update offer.
//
// Two shells: the field app (index.html) and the coordinator's page (/pact/, its own
// wasm). A worker's phone only ever gets the first; the second is cached when a
// coordinator's or admin's device asks ("keep-pact", sent by the field app), when it
// is opened, and on every update of a device that had it.
const BUILD = "__PAKTUM_BUILD__";
const CACHE = `paktum-shell-${BUILD}`;
const FIXED = ["/", "/index.html", "/manifest.webmanifest", "/icons/icon-192.png", "/icons/icon-512.png", "/icons/icon.svg"];
const PACT = "/pact/index.html";
/** What a shell is made of: the files precache() stores. Anything else (the relay's
 * API, the sync socket) goes to the network untouched. */
const SHELL_FILE = /\.(?:js|wasm|css|png|svg|webmanifest)$/;

/** The page at `page` and every file of this origin it links, into the cache. */
async function cachePage(cache, page, extra) {
  const response = await fetch(page, { cache: "no-store" });
  if (!response.ok) throw new Error(`${page}: ${response.status}`);
  const html = await response.clone().text();
  const urls = new Set(extra);
  const links = html.matchAll(/(?:href|src)="([^"]+)"|['"](\/[^'"\s]+\.(?:js|wasm|css))['"]/g);
  for (const m of links) {
    const url = new URL(m[1] || m[2], new URL(page, self.location.origin));
    if (url.origin === self.location.origin && url.pathname !== "/" && url.pathname !== page) urls.add(url.pathname);
  }
  await cache.addAll([...urls].map((u) => new Request(u, { cache: "no-store" })));
  return response;
}

async function precache() {
  const cache = await caches.open(CACHE);
  const index = await cachePage(cache, "/index.html", FIXED.filter((u) => u !== "/index.html" && u !== "/"));
  await cache.put("/index.html", index.clone());
  await cache.put("/", index);
  // A device that had the coordinator's page keeps it across the update.
  for (const key of await caches.keys()) {
    if (key.startsWith("paktum-shell-") && key !== CACHE && (await (await caches.open(key)).match(PACT))) {
      // A deployment without it must still install.
      await keepPact().catch(() => {});
      break;
    }
  }
}

async function keepPact() {
  const cache = await caches.open(CACHE);
  if (await cache.match(PACT)) return;
  await cache.put(PACT, await cachePage(cache, PACT, []));
}

/** The coordinator's page is /pact and everything under it but /pact/teams (the relay's). */
function isPactPage(path) {
  return path === "/pact" || (path.startsWith("/pact/") && path !== "/pact/teams");
}

self.addEventListener("install", (event) => {
  event.waitUntil(precache());
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const key of await caches.keys()) {
        if (key.startsWith("paktum-shell-") && key !== CACHE) await caches.delete(key);
      }
      await self.clients.claim();
    })(),
  );
});

self.addEventListener("message", (event) => {
  if (event.data === "skip-waiting") self.skipWaiting();
  // Not built (a field-app-only dist) is no error worth a console line.
  if (event.data === "keep-pact") event.waitUntil(keepPact().catch(() => {}));
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate") {
    // Any app route opens its shell; the router shows the page.
    if (isPactPage(url.pathname)) {
      event.respondWith(
        caches.open(CACHE).then((c) => c.match(PACT)).then((r) => {
          if (r) return r;
          // Opened before it was cached: from the network, and kept for next time.
          event.waitUntil(keepPact().catch(() => {}));
          return fetch(request);
        }),
      );
      return;
    }
    event.respondWith(
      caches.open(CACHE).then((c) => c.match("/index.html")).then((r) => r || fetch(request)),
    );
    return;
  }
  // Only a shell's files come from the cache; the relay's API and the sync socket are
  // never cached: the browser asks the network itself (offline, the app's request fails
  // as a plain network error and it keeps what it has).
  if (!SHELL_FILE.test(url.pathname)) return;
  event.respondWith(
    caches.open(CACHE).then((c) => c.match(url.pathname)).then((r) => r || fetch(request)),
  );
});
