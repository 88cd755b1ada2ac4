// What this device keeps of a login, and forgetting it. The app's shell is the same for everyone and
// stays cached; what is the citizen's own (the last API answers, who is logged in) goes when the login
// ends: on signing out (everything, the shell and the outbox too), when the server answers 401 (the
// login expired or was ended elsewhere) and whenever the login page is shown (someone new may log in).
export const DATA_CACHE = "mestring-data";
const CACHE_PREFIX = "mestring-";
const IDENTITY_KEY = "mestring-identity";
export const OUTBOX_DATABASE = "mestring";

// Who is logged in (account id and roles), as the API said after this login; null until asked.
export function knownIdentity() {
  try {
    const identity = JSON.parse(localStorage.getItem(IDENTITY_KEY) || "null");
    return identity && identity.id && Array.isArray(identity.roles) ? identity : null;
  } catch {
    return null;
  }
}

export function rememberIdentity(identity) {
  localStorage.setItem(IDENTITY_KEY, JSON.stringify({ id: identity.id, roles: identity.roles }));
}

// The login ended: the data shown of it goes. The outbox stays (each item names whose it is, so
// the same person finds it again after logging in, and nobody else ever sees or sends it).
export async function forgetLogin() {
  localStorage.removeItem(IDENTITY_KEY);
  if ("caches" in self) {
    await caches.delete(DATA_CACHE);
  }
}

function deleteOutbox() {
  return new Promise((resolve) => {
    const request = indexedDB.deleteDatabase(OUTBOX_DATABASE);
    request.onsuccess = request.onerror = request.onblocked = () => resolve();
  });
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
  await deleteOutbox();
}
