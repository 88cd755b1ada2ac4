// Sessions logged without a connection wait here (IndexedDB) with the ids this device made for them, and
// go to POST /me/session-logs/batch when the connection returns. The server stores each id once, so
// sending the same session twice never makes two.
import { api } from "./api.js";

const DATABASE = "mestring";
const STORE = "outbox";
const BATCH = 100;
let sending = null;

function open() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DATABASE, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: "id" });
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function run(mode, work) {
  const database = await open();
  try {
    return await new Promise((resolve, reject) => {
      const transaction = database.transaction(STORE, mode);
      const result = work(transaction.objectStore(STORE));
      transaction.oncomplete = () => resolve(result && "result" in result ? result.result : undefined);
      transaction.onerror = () => reject(transaction.error);
    });
  } finally {
    database.close();
  }
}

function changed() {
  window.dispatchEvent(new CustomEvent("outbox-changed"));
}

export async function waiting() {
  const items = await run("readonly", (store) => store.getAll());
  return items.sort((first, second) => first.queued_at.localeCompare(second.queued_at));
}

export async function enqueue(sessionLog) {
  await run("readwrite", (store) => store.put({ ...sessionLog, queued_at: new Date().toISOString(), problem: null }));
  changed();
}

async function remove(ids) {
  await run("readwrite", (store) => ids.forEach((id) => store.delete(id)));
}

async function markRefused(refusals) {
  await run("readwrite", (store) => {
    for (const [item, problem] of refusals) {
      store.put({ ...item, problem });
    }
  });
}

// Sends what waits, 100 at a time. Sent or already there: gone from the queue. Refused by the server
// (a plan ended meanwhile…): kept with the problem, so the citizen sees it and can remove it.
export function send() {
  if (sending) {
    return sending;
  }
  sending = (async () => {
    const items = (await waiting()).filter((item) => !item.problem);
    let sent = 0;
    for (let start = 0; start < items.length; start += BATCH) {
      const chunk = items.slice(start, start + BATCH);
      const payload = chunk.map(({ queued_at: _queued, problem: _problem, ...log }) => log);
      const answer = await api("/me/session-logs/batch", { method: "POST", body: { items: payload } });
      const done = [];
      const refusals = [];
      answer.results.forEach((result, index) => {
        if (result.status === "created" || result.status === "unchanged") {
          done.push(chunk[index].id);
        } else if (result.problem && result.http_status < 500) {
          refusals.push([chunk[index], result.problem.code]);
        }
      });
      await remove(done);
      await markRefused(refusals);
      sent += done.length;
    }
    changed();
    return sent;
  })().finally(() => {
    sending = null;
  });
  return sending;
}

export async function discard(id) {
  await remove([id]);
  changed();
}
