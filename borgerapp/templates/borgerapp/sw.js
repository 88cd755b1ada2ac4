// The citizen app's service worker (scope {{ shell }}): the shell and its files come from the cache so
// the app opens without a connection; the API's answers are fetched from the network first and kept,
// so the last data can be shown offline. Writes are never cached or replayed here: the app keeps its
// own outbox (IndexedDB) and sends it when the connection returns.
const VERSION = "{{ version }}";
const SHELL_CACHE = `mestring-shell-${VERSION}`;
const DATA_CACHE = "mestring-data";
const SHELL = "{{ shell }}";
const PRECACHE = {{ precache|safe }};
const STATIC_PREFIX = "{{ static_prefix }}";

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(SHELL_CACHE).then((cache) => cache.addAll([SHELL, ...PRECACHE])).then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(
        names.filter((name) => name.startsWith("mestring-shell-") && name !== SHELL_CACHE).map((name) => caches.delete(name)),
      ))
      // The shell's request starts while the worker is still waking up (navigation preload).
      .then(() => self.registration.navigationPreload && self.registration.navigationPreload.enable())
      .then(() => self.clients.claim()),
  );
});

async function networkFirst(request, cacheName, key = request, preloaded = null) {
  const cache = await caches.open(cacheName);
  try {
    const response = (await preloaded) || (await fetch(request));
    if (response.ok && response.type === "basic" && !response.redirected) {
      cache.put(key, response.clone());
    }
    return response;
  } catch (error) {
    const cached = await cache.match(key);
    if (cached) {
      return cached;
    }
    throw error;
  }
}

async function cacheFirst(request, cacheName) {
  const cache = await caches.open(cacheName);
  const cached = await cache.match(request);
  if (cached) {
    return cached;
  }
  const response = await fetch(request);
  if (response.ok) {
    cache.put(request, response.clone());
  }
  return response;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) {
    return;
  }
  if (request.mode === "navigate" && url.pathname === SHELL) {
    // The navigation itself goes to the network (a logged-out browser follows the redirect to the login).
    event.respondWith(networkFirst(request, SHELL_CACHE, SHELL, event.preloadResponse));
  } else if (url.pathname.startsWith(STATIC_PREFIX)) {
    event.respondWith(cacheFirst(request, SHELL_CACHE));
  } else if (url.pathname.startsWith("/api/v1/exercise-images/")) {
    event.respondWith(cacheFirst(request, DATA_CACHE));
  } else if (url.pathname.startsWith("/api/v1/")) {
    event.respondWith(networkFirst(request, DATA_CACHE));
  }
});
