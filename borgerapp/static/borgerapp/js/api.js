// The public API with the browser's cookie login: the same operations a native app calls with a token.
// Unsafe methods carry Django's CSRF token from its cookie in the X-CSRFToken header.
import { language } from "./i18n.js";
import { DATA_CACHE, forgetLogin } from "./session.js";

const config = JSON.parse(document.getElementById("app-config").textContent);
const problems = JSON.parse(document.getElementById("problems").textContent);

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

// The last answer to a GET the service worker kept, without asking the network; null if none.
export async function cachedAnswer(path) {
  if (!("caches" in window)) {
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

let leaving = null;

// The login has ended (expired, or ended on another device): its data is forgotten and the login shown.
function loginEnded() {
  if (!leaving) {
    leaving = forgetLogin().finally(() => window.location.assign(config.login));
  }
  return leaving;
}

export async function api(path, options = {}) {
  const early = (options.method || "GET") === "GET" ? started.get(path) : undefined;
  if (early) {
    started.delete(path);
    if (Date.now() - early.at < PREFETCH_KEPT_MS) {
      return early.pending;
    }
  }
  return request(path, options);
}

async function request(path, { method = "GET", body, form } = {}) {
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
    throw new ApiError(0, "network", String(error));
  }
  const fetchedAt = response.headers.get("X-Mestring-Fetched-At");
  if (fetchedAt) {
    // No connection: the service worker answered with the copy it kept (see sw.js).
    window.dispatchEvent(new CustomEvent("kept-answer", { detail: fetchedAt }));
  }
  if (response.status === 401) {
    await loginEnded();
    throw new ApiError(401, "not_authenticated", "");
  }
  if (response.status === 204) {
    return null;
  }
  const type = response.headers.get("Content-Type") || "";
  const data = type.includes("json") ? await response.json() : null;
  if (!response.ok) {
    throw new ApiError(response.status, (data && data.code) || "fallback", data && data.detail, (data && data.errors) || []);
  }
  return data;
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
