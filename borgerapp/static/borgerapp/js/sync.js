// The citizen's training as the server last told it, kept on this device so that Min plan opens without a
// connection: GET /me/sync walked from the kept cursor into IndexedDB ("mestring-sync"). Kept are the
// plans (and each version of them seen), the exercises, goals, slots and session logs, each under its
// type and id, with the cursor and the moment the last finished walk began (what is kept holds every
// change made before it). A walk follows `has_more` at once, page by page, keeping each page and its
// cursor together, so a walk cut off (the connection lost) goes on from there the next time. What changed
// while a walk went on comes with the next one, so a walk that brought changes is followed by another,
// until one brings nothing new (the server sends again what changed just before a walk began: kept
// already, it is nothing new). Never two walks at once: asked for during one, one more follows it. The
// app deletes the database when the login ends (session.js); from then on nothing walks or writes here.
import { ApiError, api } from "./api.js";
import { isOnline } from "./connection.js";
import { language } from "./i18n.js";
import { Database } from "./idb.js";
import { SYNC_DATABASE } from "./session.js";

const ENTITIES = "entities";
const META = "meta";
// The sync's lists and the type each item is kept under.
const TYPES = { plans: "plan", exercises: "exercise", goals: "goal", slots: "slot", session_logs: "session_log" };
const MAX_WALKS = 5;
// Older than this, what is kept is stale: Min plan says how old it is (offline it always does) and,
// with a connection, a walk starts when it is opened.
export const STALE_MS = 10 * 60 * 1000;

const database = new Database(SYNC_DATABASE, 1, (opened) => {
  opened.createObjectStore(ENTITIES, { keyPath: ["type", "id"] });
  opened.createObjectStore(META);
});

let ready = null;
let walking = null;
let again = false;
// Counts the walks in this page that changed what is kept: a screen drawn from an older count is behind.
let changes = 0;
// The last walk found no connection (the browser may say it is online while nothing gets through).
let unreachable = false;

export function isUnreachable() {
  return unreachable;
}

export function revision() {
  return changes;
}

// For the account logged in and in the app's language (the exercises' words come in it): what another
// account or another language left is cleared first, and the next walk starts from nothing.
export function prepare(owner) {
  ready = (async () => {
    const [keptOwner, keptLanguage] = await Promise.all([database.get(META, "owner"), database.get(META, "language")]);
    if (keptOwner === owner && keptLanguage === language()) {
      return;
    }
    // Cleared first, then named: stopped between the two, the next start clears it again.
    await database.clear(ENTITIES, META);
    await database.run(META, "readwrite", (transaction) => {
      transaction.objectStore(META).put(owner, "owner");
      transaction.objectStore(META).put(language(), "language");
    });
  })();
  return ready;
}

// The login has ended: no walk starts or writes any more (the database is deleted next, session.js).
export function closeSync() {
  return database.close();
}

// One answer of the sync kept in one transaction with its cursor: each item put under its type and id
// (a slot cancelled is removed), and the plan's current version kept as a version of its own (a slot
// names the version it was made from). Answers how many items were new or different.
function keep(page, startedAt) {
  return database.run([ENTITIES, META], "readwrite", (transaction) => {
    const entities = transaction.objectStore(ENTITIES);
    const meta = transaction.objectStore(META);
    const counted = { changed: 0 };
    const upsert = (type, item, isGone) => {
      const key = [type, String(item.id)];
      const read = entities.get(key);
      read.onsuccess = () => {
        const before = read.result;
        if (isGone) {
          if (before) {
            entities.delete(key);
            counted.changed += 1;
          }
        } else if (!before || JSON.stringify(before.data) !== JSON.stringify(item)) {
          entities.put({ type, id: String(item.id), data: item });
          counted.changed += 1;
        }
      };
    };
    for (const [list, type] of Object.entries(TYPES)) {
      for (const item of page[list] || []) {
        upsert(type, item, type === "slot" && item.status === "cancelled");
      }
    }
    for (const plan of page.plans || []) {
      if (plan.current_version) {
        entities.put({ type: "version", id: String(plan.current_version.id), data: { ...plan.current_version, plan_id: plan.id } });
      }
    }
    meta.put(page.cursor, "cursor");
    if (page.has_more) {
      meta.put(startedAt, "walk_started_at");
    } else {
      meta.put(startedAt, "synced_at");
      meta.delete("walk_started_at");
    }
    return counted;
  }).then((counted) => counted.changed);
}

// A cursor the server no longer takes (422): everything kept goes, and the walk starts from nothing.
function startOver() {
  return database.run([ENTITIES, META], "readwrite", (transaction) => {
    transaction.objectStore(ENTITIES).clear();
    const meta = transaction.objectStore(META);
    ["cursor", "walk_started_at", "synced_at"].forEach((key) => meta.delete(key));
  });
}

// One walk, from the kept cursor until the server has nothing more: how many items it changed.
async function walkOnce() {
  let [cursor, startedAt] = await Promise.all([database.get(META, "cursor"), database.get(META, "walk_started_at")]);
  startedAt = startedAt || new Date().toISOString();
  let changed = 0;
  for (;;) {
    if (database.isClosed) {
      throw new ApiError(401, "not_authenticated", "");
    }
    let page;
    try {
      page = await api(cursor ? `/me/sync?cursor=${encodeURIComponent(cursor)}` : "/me/sync");
    } catch (error) {
      if (error.status !== 422 || !cursor) {
        throw error;
      }
      await startOver();
      cursor = null;
      startedAt = new Date().toISOString();
      continue;
    }
    const found = await keep(page, startedAt);
    if (found) {
      changes += 1;
    }
    changed += found;
    if (!page.has_more) {
      return changed;
    }
    cursor = page.cursor;
  }
}

// Brings what is kept up to date: answers how many items changed ("synced"), or fails (no connection:
// "sync-failed"; the login ended: a 401 ends the walk at once). Asked for while a walk runs, it answers with that walk, which is
// then followed by one more.
export function refresh() {
  if (!ready || database.isClosed) {
    return Promise.resolve(0);
  }
  if (walking) {
    again = true;
    return walking;
  }
  walking = (async () => {
    await ready;
    let changed = 0;
    let syncedAt;
    do {
      again = false;
      for (let walk = 0; walk < MAX_WALKS; walk += 1) {
        const found = await walkOnce();
        changed += found;
        if (!found) {
          break;
        }
      }
      syncedAt = await database.get(META, "synced_at");
    } while (again && !database.isClosed);
    unreachable = false;
    window.dispatchEvent(new CustomEvent("synced", { detail: { changed, syncedAt } }));
    return changed;
  })().catch((error) => {
    if (error.status === 0) {
      unreachable = true;
      window.dispatchEvent(new CustomEvent("sync-failed"));
    }
    throw error;
  }).finally(() => {
    walking = null;
  });
  return walking;
}

export function isStale(syncedAt, now = Date.now()) {
  return now - Date.parse(syncedAt) > STALE_MS;
}

// What is kept, for Min plan: the items by type (a Map of id to item each) and when the last finished walk
// began (``syncedAt``), with the revision it is of. Nothing kept yet: the walk under way, or a new one,
// is waited for; without a connection that fails as a request would. Stale with a connection: a walk
// starts, and the screen is drawn again when it brings something.
export async function kept() {
  if (!ready) {
    throw new ApiError(0, "network", "nothing is kept for this login");
  }
  await ready;
  let syncedAt = await database.get(META, "synced_at");
  if (!syncedAt) {
    if (!walking && !isOnline()) {
      throw new ApiError(0, "network", "nothing is kept yet");
    }
    await (walking || refresh());
    syncedAt = await database.get(META, "synced_at");
    if (!syncedAt) {
      throw new ApiError(0, "network", "nothing is kept yet");
    }
  } else if (isOnline() && isStale(syncedAt)) {
    refresh().catch(() => null);
  }
  const at = revision();
  const items = {};
  for (const record of await database.getAll(ENTITIES)) {
    (items[record.type] ||= new Map()).set(record.id, record.data);
  }
  return { syncedAt, revision: at, items: (type) => items[type] || new Map() };
}
