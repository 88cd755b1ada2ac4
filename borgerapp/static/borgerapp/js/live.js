// Keeping the inbox current while the app is open: the count of unread messages is fetched again when
// the app comes back into view and every 30 seconds, and "inbox-changed" is fired when it differs.
import { api } from "./api.js";

const INTERVAL_MS = 30_000;
let lastUnread = null;

async function check() {
  if (document.visibilityState !== "visible" || !navigator.onLine) {
    return;
  }
  try {
    const inbox = await api("/notifications?limit=1");
    if (inbox.unread_count !== lastUnread) {
      lastUnread = inbox.unread_count;
      window.dispatchEvent(new CustomEvent("inbox-changed", { detail: { unread: inbox.unread_count } }));
    }
  } catch {
    // Offline or logged out: the next check tries again.
  }
}

export function startLive() {
  document.addEventListener("visibilitychange", check);
  window.addEventListener("focus", check);
  window.setInterval(check, INTERVAL_MS);
  check();
}
