// What this device keeps of a login, and forgetting it. The app's shell is the same for everyone and
// stays cached; what is the citizen's own (the last API answers, who is logged in) goes when the login
// ends: on signing out (everything, the shell and the outbox too), when the login's absolute end has
// passed (known from the API at login; checked before anything kept is shown, and at that moment even
// without a connection), when the server answers 401 (the login was ended elsewhere, or idled out) and
// whenever the login page is shown (someone new may log in). The training kept from the sync (sync.js)
// is part of that data and goes with it each time.
import { deleteDatabase } from "./idb.js";

export const DATA_CACHE = "mestring-data";
const CACHE_PREFIX = "mestring-";
const IDENTITY_KEY = "mestring-identity";
// The day the week ahead was last kept (main.js): with the kept answers, it goes when the login ends.
export const WEEK_KEPT_KEY = "mestring-week-kept";
export const OUTBOX_DATABASE = "mestring";
export const SYNC_DATABASE = "mestring-sync";

// Who is logged in (account id and roles) and when the login ends at the latest on this device's clock
// (``ends_at``, milliseconds; null when the server names no end), as the API said after this login;
// null until asked.
export function knownIdentity() {
  try {
    const identity = JSON.parse(localStorage.getItem(IDENTITY_KEY) || "null");
    const isComplete = identity && identity.id && Array.isArray(identity.roles) && "ends_at" in identity;
    return isComplete ? identity : null;
  } catch {
    return null;
  }
}

export function isOver(identity, now = Date.now()) {
  return identity.ends_at !== null && identity.ends_at <= now;
}

// The login's end (``session_expires_at`` of GET /me) on this device's clock, which may be off from the
// server's: moved by the difference between the server's Date and this device's time of the same answer
// (for a kept answer, the moment the service worker kept it).
export function endOnThisDevice(expiresAt, serverDate, localTime) {
  if (!expiresAt) {
    return null;
  }
  const server = Date.parse(serverDate || "");
  const offset = Number.isNaN(server) ? 0 : server - localTime;
  return Date.parse(expiresAt) - offset;
}

export function rememberIdentity(identity) {
  localStorage.setItem(IDENTITY_KEY, JSON.stringify({ id: identity.id, roles: identity.roles, ends_at: identity.ends_at }));
}

// The login ended: the data shown of it goes (the kept answers and the kept training). On the login page
// the outbox stays (each item names whose it is, so the same person finds it again after logging in,
// and nobody else ever sees or sends it); the app, which has told the citizen what in it was not sent,
// deletes it too (``outbox: true``).
export async function forgetLogin({ outbox = false } = {}) {
  localStorage.removeItem(IDENTITY_KEY);
  localStorage.removeItem(WEEK_KEPT_KEY);
  await Promise.all([
    "caches" in self ? caches.delete(DATA_CACHE) : null,
    deleteDatabase(SYNC_DATABASE),
    outbox ? deleteDatabase(OUTBOX_DATABASE) : null,
  ]);
}

// Signing out: nothing of the app is left on the device, so the next person sees only the login.
export async function forgetEverything() {
  for (const key of Object.keys(localStorage)) {
    if (key.startsWith(CACHE_PREFIX)) {
      localStorage.removeItem(key);
    }
  }
  if ("caches" in self) {
    const names = await caches.keys();
    await Promise.all(names.filter((name) => name.startsWith(CACHE_PREFIX)).map((name) => caches.delete(name)));
  }
  await Promise.all([deleteDatabase(OUTBOX_DATABASE), deleteDatabase(SYNC_DATABASE)]);
}
