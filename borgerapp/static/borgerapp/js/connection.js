// The app's one notion of being online. The browser's navigator.onLine and its online/offline events are
// not enough: a phone connected to a network that reaches nothing ("lie-fi") says it is online, and after
// such a spell the browser may never say the connection returned. So the app is offline when the browser
// says so or when the last request to the server found no connection (a fetch that failed, or the
// service worker's kept copy answering instead of the server: api.js says which), and online again when a
// request reaches the server. While offline and looked at, it asks the server every few seconds (GET
// {api}/me, past every cache); when the server answers, the app is online again. Each change is one
// "connection-changed" event on the window, with { online } as its detail.
const PROBE_MS = 3000;
// The header the service worker puts on a kept copy of an answer (see sw.js).
const FETCHED_AT = "X-Mestring-Fetched-At";

let unreachable = false;
let online = navigator.onLine;
let probeUrl = null;
let probing = null;
let timer = null;

export function isOnline() {
  return online;
}

function settle() {
  const now = navigator.onLine && !unreachable;
  if (now !== online) {
    online = now;
    window.dispatchEvent(new CustomEvent("connection-changed", { detail: { online } }));
  }
  if (online) {
    window.clearTimeout(timer);
    timer = null;
  } else if (timer === null) {
    timer = window.setTimeout(probe, PROBE_MS);
  }
}

// A request reached the server (whatever it answered).
export function reached() {
  unreachable = false;
  settle();
}

// A request found no connection to the server.
export function unreached() {
  unreachable = true;
  settle();
}

// Whether an answer came from the server, not from the service worker's kept copy.
export function isFromServer(response) {
  return !response.headers.get(FETCHED_AT);
}

// The request the app asks the server with while it believes itself offline (api.js names it).
export function probeWith(url) {
  probeUrl = url;
}

// Asks the server once, past the service worker's cache and the browser's: answered, the app is online.
export function probe() {
  window.clearTimeout(timer);
  timer = null;
  if (probing) {
    return probing;
  }
  if (!probeUrl || !navigator.onLine || document.visibilityState === "hidden") {
    // No connection at all, or the app is not looked at: asked again later (and at once at the browser's
    // "online" event or when the app is looked at again).
    settle();
    return Promise.resolve(online);
  }
  probing = fetch(probeUrl, { cache: "no-store", credentials: "same-origin", headers: { Accept: "application/json" } })
    .then((response) => (isFromServer(response) ? reached() : unreached()), () => unreached())
    .then(() => online)
    .finally(() => {
      probing = null;
    });
  return probing;
}

window.addEventListener("offline", () => settle());
window.addEventListener("online", () => (online ? settle() : probe()));
document.addEventListener("visibilitychange", () => {
  if (!online && document.visibilityState === "visible") {
    probe();
  }
});
