// What the app writes waits here (IndexedDB) with the id this device made for it, until the server has
// it: sessions (sent together to POST /me/session-logs/batch), goal ratings, requests, questionnaire
// answers and a relative's sessions (each to its own endpoint). The server stores each id once, so
// sending the same item twice never makes two. A sent item stays listed as sent until the app starts
// again; one the server refused (409 changed elsewhere, 422 …) stays with its problem and the field
// errors the server named until the user sends it again or removes it — nothing is dropped without the
// user seeing it. Each item names the account it was written under: after a login that ended, the same
// person finds it again, and anyone else who logs in on the device neither sees nor sends it.
import { api } from "./api.js";
import { isOnline } from "./connection.js";
import { Database } from "./idb.js";
import { OUTBOX_DATABASE } from "./session.js";

const DATABASE = OUTBOX_DATABASE;
const STORE = "outbox";
const BATCH = 100;
const BATCH_PATH = "/me/session-logs/batch";
export const KINDS = { session: "session", rating: "rating", request: "request", answer: "answer", relativeSession: "relative_session" };
let sending = null;
let owner = null;

// The outbox's database (idb.js); it is closed for good when the login has ended and it is deleted.
const database = new Database(DATABASE, 1, (opened) => opened.createObjectStore(STORE, { keyPath: "id" }));

export function closeOutbox() {
  return database.close();
}

function run(mode, work) {
  return database.run(STORE, mode, (transaction) => work(transaction.objectStore(STORE)));
}

// The account now logged in: what it queues is its own, and only its own is listed and sent (from now
// on). Answers when what others queued on this device, and what was sent before the app started this
// time, has been deleted.
export function setOwner(id) {
  owner = id;
  return run("readwrite", (store) => {
    const all = store.getAll();
    all.onsuccess = () => all.result
      .filter((item) => (id && item.owner && item.owner !== id) || item.sent_at)
      .forEach((item) => store.delete(item.id));
  });
}

function changed() {
  window.dispatchEvent(new CustomEvent("outbox-changed"));
}

// An item queued by an earlier version of the app is a session log itself.
function normal(item) {
  if (item.kind) {
    return item;
  }
  const { queued_at: queuedAt, problem, ...body } = item;
  return {
    id: item.id, kind: KINDS.session, path: BATCH_PATH, body, label: "", queued_at: queuedAt, problem, errors: [], status: null, sent_at: null,
  };
}

// Everything listed: waiting, refused and sent, oldest first.
export async function items() {
  const stored = (await database.getAll(STORE)).filter((item) => !owner || !item.owner || item.owner === owner);
  return stored.map(normal).sort((first, second) => first.queued_at.localeCompare(second.queued_at));
}

// What the server does not have yet (waiting or refused).
export async function waiting() {
  return (await items()).filter((item) => !item.sent_at);
}

export async function enqueue({ kind, id, path, body, label }) {
  await database.put(STORE, {
    id, kind, path, body, label, owner, queued_at: new Date().toISOString(), problem: null, errors: [], status: null, sent_at: null,
  });
  changed();
}

async function update(entries) {
  await run("readwrite", (store) => {
    for (const [item, changes] of entries) {
      store.put({ ...item, ...changes });
    }
  });
}

async function sendSessions(sessions) {
  let sent = 0;
  for (let start = 0; start < sessions.length; start += BATCH) {
    const chunk = sessions.slice(start, start + BATCH);
    const answer = await api(BATCH_PATH, { method: "POST", body: { items: chunk.map((item) => item.body) } });
    const now = new Date().toISOString();
    const entries = [];
    answer.results.forEach((result, index) => {
      if (result.status === "created" || result.status === "unchanged") {
        entries.push([chunk[index], { sent_at: now, problem: null, errors: [], status: null }]);
        sent += 1;
      } else if (result.problem && result.http_status < 500) {
        entries.push([chunk[index], { problem: result.problem.code, errors: result.problem.errors || [], status: result.http_status }]);
      }
    });
    await update(entries);
  }
  return sent;
}

async function sendOne(item) {
  try {
    await api(item.path, { method: "POST", body: item.body });
  } catch (error) {
    if (error.status === 0 || error.status === 401) {
      throw error;
    }
    if (error.status < 500) {
      await update([[item, { problem: error.code, errors: error.errors || [], status: error.status }]]);
    }
    return 0;
  }
  await update([[item, { sent_at: new Date().toISOString(), problem: null, errors: [], status: null }]]);
  return 1;
}

// Sends what waits. Sent or already there: marked sent. Refused by the server: kept with the problem,
// so the user sees it and decides. No connection: everything keeps waiting (the error is thrown). When
// something reached the server, "outbox-sent" says so (the app then brings its kept training up to date).
export function send() {
  if (sending) {
    return sending;
  }
  sending = (async () => {
    const pending = (await waiting()).filter((item) => !item.problem);
    let sent = await sendSessions(pending.filter((item) => item.kind === KINDS.session));
    for (const item of pending.filter((entry) => entry.kind !== KINDS.session)) {
      sent += await sendOne(item);
    }
    if (sent) {
      window.dispatchEvent(new CustomEvent("outbox-sent", { detail: { sent } }));
    }
    return sent;
  })().finally(() => {
    sending = null;
    changed();
  });
  return sending;
}

// After the user read the problem: try once more with the same id (a retry of the same content).
export async function retry(id) {
  const item = (await items()).find((entry) => entry.id === id);
  if (item) {
    await update([[item, { problem: null, errors: [], status: null }]]);
    changed();
  }
  return send();
}

export async function discard(id) {
  await database.delete(STORE, id);
  changed();
}

// Queue one item and, with a connection, send it at once. Answers "sent", "waiting" (no connection yet)
// or "refused" with the server's problem and field errors (the item stays listed with them).
export async function submit(entry) {
  await enqueue(entry);
  if (!isOnline()) {
    return { state: "waiting" };
  }
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      await send();
    } catch {
      return { state: "waiting" };
    }
    const result = await stateOf(entry.id);
    if (result.state !== "waiting") {
      return result;
    }
    // A send already under way when this was queued did not take it along: once more.
  }
  return { state: "waiting" };
}

// Where one item stands: "sent", "waiting", or "refused" with the server's problem code and field errors.
export async function stateOf(id) {
  const item = (await items()).find((candidate) => candidate.id === id);
  if (!item || item.sent_at) {
    return { state: "sent" };
  }
  return item.problem ? { state: "refused", code: item.problem, errors: item.errors || [], status: item.status } : { state: "waiting" };
}
