// The public API with the browser's cookie login: the same operations a native app calls with a token.
// Unsafe methods carry Django's CSRF token from its cookie in the X-CSRFToken header.
import { isFromServer, probeWith, reached, unreached } from "./connection.js";
import { language } from "./i18n.js";
import { DATA_CACHE, endOnThisDevice, forgetLogin, isOver, knownIdentity } from "./session.js";

const config = JSON.parse(document.getElementById("app-config").textContent);
const problems = JSON.parse(document.getElementById("problems").textContent);
// Asked while the app believes itself offline (connection.js): cheap, and answered by the server only.
probeWith(config.api + "/me");

export { config };

export class ApiError extends Error {
  constructor(status, code, detail, errors = []) {
    super(problemText(code));
    this.status = status;
    this.code = code;
    this.detail = detail;
    this.errors = errors;
  }
}

// The problem catalogue: the API's codes said in the app's language.
export function problemText(code) {
  const texts = problems[language()] || problems.da;
  return texts[code] || texts.fallback;
}

export function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

// A GET started before the screen that needs it was loaded, taken once by that screen (and only
// while it is fresh: a screen shown later asks again).
const started = new Map();
const PREFETCH_KEPT_MS = 10000;

export function prefetch(path) {
  if (!started.has(path)) {
    const pending = request(path);
    pending.catch(() => null);
    started.set(path, { pending, at: Date.now() });
  }
}

// The last answer to a GET the service worker kept, without asking the network; null if none, and
// null while the login it was kept for is not known to be in force (the app asks /me first).
export async function cachedAnswer(path) {
  const known = knownIdentity();
  if (!("caches" in window) || !known || isOver(known)) {
    return null;
  }
  try {
    const cache = await caches.open(DATA_CACHE);
    const response = await cache.match(config.api + path, { ignoreVary: true });
    return response && response.ok ? await response.json() : null;
  } catch {
    return null;
  }
}

// The header the service worker puts on a kept copy of an answer: when it was fetched (see sw.js).
const FETCHED_AT = "X-Mestring-Fetched-At";
let leaving = null;
// What the app does when the login has ended: by default its data is forgotten and the login shown;
// the app's shell gives its own (which first tells the citizen what could not be sent).
let endLogin = async () => {
  await forgetLogin();
  window.location.assign(config.login);
};

export function whenLoginEnds(handler) {
  endLogin = handler;
}

// The login has ended ("expired": its absolute end has passed; "ended": the server answered 401, as
// after signing out on every device): done once, however many requests meet it.
export function loginEnded(reason) {
  if (!leaving) {
    leaving = Promise.resolve(endLogin(reason));
  }
  return leaving;
}

// Signing out on this device: the login ends by the citizen's own choice, and the sign-out's answer
// (the login page saying so) is what follows. A 401 to a request still under way (signing out on
// every device ends this login too) must not lead elsewhere first: it waits for that page.
export function signingOut() {
  if (!leaving) {
    leaving = new Promise(() => {});
  }
}

export async function api(path, options = {}) {
  const known = knownIdentity();
  if (known && isOver(known)) {
    // Not even the kept copy: the login it was kept for is over.
    await loginEnded("expired");
    throw new ApiError(401, "not_authenticated", "");
  }
  const early = (options.method || "GET") === "GET" ? started.get(path) : undefined;
  if (early) {
    started.delete(path);
    if (Date.now() - early.at < PREFETCH_KEPT_MS) {
      return early.pending;
    }
  }
  return request(path, options);
}

// Who is logged in, and until when on this device's clock: GET /me, with its Date header (for a kept
// copy, the moment it was kept) to place the server's end on this device's clock.
export async function whoIsLoggedIn() {
  const { data, headers } = await answer("/me");
  const keptAt = headers.get(FETCHED_AT);
  const localTime = keptAt ? Date.parse(keptAt) : Date.now();
  return {
    id: data.id,
    roles: data.roles.map((role) => role.code),
    ends_at: endOnThisDevice(data.session_expires_at, headers.get("Date"), localTime),
  };
}

async function request(path, options) {
  return (await answer(path, options)).data;
}

async function answer(path, { method = "GET", body, form } = {}) {
  const headers = { Accept: "application/json", "Accept-Language": language() };
  if (method !== "GET") {
    headers["X-CSRFToken"] = csrfToken();
  }
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
  }
  let response;
  try {
    response = await fetch(config.api + path, {
      method,
      headers,
      credentials: "same-origin",
      body: form || (body === undefined ? undefined : JSON.stringify(body)),
    });
  } catch (error) {
    unreached();
    throw new ApiError(0, "network", String(error));
  }
  const fetchedAt = response.headers.get(FETCHED_AT);
  if (isFromServer(response)) {
    reached();
  } else {
    // No connection: the service worker answered with the copy it kept (see sw.js).
    unreached();
    window.dispatchEvent(new CustomEvent("kept-answer", { detail: fetchedAt }));
  }
  if (response.status === 401) {
    await loginEnded("ended");
    throw new ApiError(401, "not_authenticated", "");
  }
  if (response.status === 204) {
    return { data: null, headers: response.headers };
  }
  const type = response.headers.get("Content-Type") || "";
  const data = type.includes("json") ? await response.json() : null;
  if (!response.ok) {
    throw new ApiError(response.status, (data && data.code) || "fallback", data && data.detail, (data && data.errors) || []);
  }
  return { data, headers: response.headers };
}

// A UUID made on this device: the key that makes every retry of a write safe.
export function clientId() {
  if (crypto.randomUUID) {
    return crypto.randomUUID();
  }
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
