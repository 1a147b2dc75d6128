// Paktum's service worker: precaches the app shell so the app starts with no network.
// Trunk hashes asset names, so on install the worker reads index.html and caches
// everything it links. BUILD is stamped per build by Trunk's post-build hook, so a new
// deployment is a new worker; it waits until the page accepts the update offer.
const BUILD = "__PAKTUM_BUILD__";
const CACHE = `paktum-shell-${BUILD}`;
const FIXED = ["/", "/index.html", "/manifest.webmanifest", "/icons/icon-192.png", "/icons/icon-512.png", "/icons/icon.svg"];

async function precache() {
  const cache = await caches.open(CACHE);
  const response = await fetch("/index.html", { cache: "no-store" });
  if (!response.ok) throw new Error(`index.html: ${response.status}`);
  const html = await response.clone().text();
  const urls = new Set(FIXED.filter((u) => u !== "/index.html" && u !== "/"));
  const links = html.matchAll(/(?:href|src)="([^"]+)"|['"](\/[^'"\s]+\.(?:js|wasm|css))['"]/g);
  for (const m of links) {
    const url = new URL(m[1] || m[2], self.location.origin);
    if (url.origin === self.location.origin && url.pathname !== "/") urls.add(url.pathname);
  }
  await cache.addAll([...urls].map((u) => new Request(u, { cache: "no-store" })));
  await cache.put("/index.html", response.clone());
  await cache.put("/", response);
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
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || url.pathname.startsWith("/sync")) return;
  if (request.mode === "navigate") {
    // Any app route opens the shell; the router shows the page.
    event.respondWith(
      caches.open(CACHE).then((c) => c.match("/index.html")).then((r) => r || fetch(request)),
    );
    return;
  }
  event.respondWith(
    caches.open(CACHE).then((c) => c.match(url.pathname)).then((r) => r || fetch(request)),
  );
});
