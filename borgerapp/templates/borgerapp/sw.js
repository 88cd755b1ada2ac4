// The citizen app's service worker (scope {{ shell }}): the shell and its files come from the cache, with
// no request to the network, so the app opens at once and without a connection. The shell is the same
// for every user (no personal data in it); it changes only with a deployment, which changes this file
// (VERSION) and so installs the new shell. The API's answers are fetched from the network first and
// kept, so the last data can be shown offline; the app forgets them when the login ends. A logged-out
// browser still reaches the login: the app's first API call answers 401 and the app goes there, and
// signing out empties the caches, so the next opening of {{ shell }} asks the server (which redirects).
// Writes are never cached or replayed here: the app keeps its own outbox (IndexedDB) and sends it when
// the connection returns. The sync (/me/sync) is not kept here either: the app keeps what it brings in
// IndexedDB itself, and a walk without a connection must fail, not be answered with an old page.
const VERSION = "{{ version }}";
const SHELL_CACHE = `mestring-shell-${VERSION}`;
const DATA_CACHE = "mestring-data";
const SHELL = "{{ shell }}";
const PRECACHE = {{ precache|safe }};
const STATIC_PREFIX = "{{ static_prefix }}";

// The shell as the server sends it to a logged-in browser; a redirect (to the login) is never kept as it.
function isShell(response) {
  return response.ok && response.type === "basic" && !response.redirected;
}

async function precache() {
  const cache = await caches.open(SHELL_CACHE);
  await cache.addAll(PRECACHE);
  const shell = await fetch(SHELL, { credentials: "same-origin" });
  if (isShell(shell)) {
    await cache.put(SHELL, shell);
  }
}

self.addEventListener("install", (event) => {
  event.waitUntil(precache().then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(
        names.filter((name) => name.startsWith("mestring-shell-") && name !== SHELL_CACHE).map((name) => caches.delete(name)),
      ))
      // The shell comes from the cache: no navigation request is to be started for it.
      .then(() => self.registration.navigationPreload && self.registration.navigationPreload.disable())
      .then(() => self.clients.claim()),
  );
});

// The kept copy of an answer carries the moment it was fetched, so the app can say how old what it shows
// offline is (an answer from the network has no such header).
const FETCHED_AT = "X-Mestring-Fetched-At";

async function stamped(response) {
  const headers = new Headers(response.headers);
  headers.set(FETCHED_AT, new Date().toISOString());
  return new Response(await response.blob(), { status: response.status, statusText: response.statusText, headers });
}

async function networkFirst(request, cacheName) {
  const cache = await caches.open(cacheName);
  try {
    const response = await fetch(request);
    if (response.ok && response.type === "basic" && !response.redirected) {
      await cache.put(request, await stamped(response.clone()));
    }
    return response;
  } catch (error) {
    const cached = await cache.match(request);
    if (cached) {
      return cached;
    }
    throw error;
  }
}

// The shell from the cache; from the server only when the cache has none (after signing out, or if the
// install could not keep it), kept when it is the shell and not the login it redirected to.
async function shellFirst(request) {
  const cache = await caches.open(SHELL_CACHE);
  const cached = await cache.match(SHELL);
  if (cached) {
    return cached;
  }
  const response = await fetch(request);
  if (isShell(response)) {
    await cache.put(SHELL, response.clone());
  }
  return response;
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
    event.respondWith(shellFirst(request));
  } else if (url.pathname.startsWith(STATIC_PREFIX)) {
    event.respondWith(cacheFirst(request, SHELL_CACHE));
  } else if (url.pathname.startsWith("/api/v1/exercise-images/")) {
    event.respondWith(cacheFirst(request, DATA_CACHE));
  } else if (url.pathname === "/api/v1/me/sync" || request.cache === "no-store") {
    // The app keeps what the sync brings itself (IndexedDB, sync.js), and its question whether the server
    // can be reached (connection.js) must be answered by the server: both go to the network only.
    return;
  } else if (url.pathname.startsWith("/api/v1/")) {
    event.respondWith(networkFirst(request, DATA_CACHE));
  }
});
