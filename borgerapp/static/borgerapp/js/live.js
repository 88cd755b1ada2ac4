// The inbox live while the app is open: the websocket stream (/ws/v1/) logs in by the page's
// same-origin session cookie — no token in the page — and announces each new notification with its id
// only; the app then fetches the inbox again over the API. While the socket is down (offline, a
// restart), the unread count is fetched when the app comes back into view and every 30 seconds, and the
// socket is opened again, more slowly each time.
import { api, config } from "./api.js";
import { isOnline } from "./connection.js";

const POLL_MS = 30_000;
let lastUnread = null;
let socket = null;
let failures = 0;

// ``announced``: the id of a notification the stream just announced. A reminder among them is told
// at once on whatever screen is open ("reminder-arrived", main.js), as the phone would have pushed it.
async function check(announced = null) {
  if (!isOnline()) {
    return;
  }
  try {
    const inbox = await api("/notifications?limit=1");
    if (inbox.unread_count !== lastUnread) {
      lastUnread = inbox.unread_count;
      window.dispatchEvent(new CustomEvent("inbox-changed", { detail: { unread: inbox.unread_count } }));
    }
    const newest = inbox.items[0];
    if (announced && newest && newest.id === announced && !newest.read_at && newest.kind.startsWith("reminder.")) {
      window.dispatchEvent(new CustomEvent("reminder-arrived", { detail: newest }));
    }
  } catch {
    // Offline or logged out: the next check tries again.
  }
}

function connect() {
  if (socket !== null || !window.WebSocket || !isOnline()) {
    return;
  }
  const scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
  const opened = new WebSocket(scheme + window.location.host + config.websocket, ["mestring.v1"]);
  socket = opened;
  opened.addEventListener("message", (message) => {
    let frame;
    try {
      frame = JSON.parse(message.data);
    } catch {
      return;
    }
    if (frame.type === "hello") {
      failures = 0;
      document.documentElement.dataset.live = "on";
      check();
    } else if (frame.type === "notification") {
      // Something changed for this person: the inbox is asked again, and the kept training (main.js).
      window.dispatchEvent(new CustomEvent("server-changed"));
      check(frame.id);
    }
  });
  opened.addEventListener("close", (event) => {
    if (socket !== opened) {
      return;
    }
    socket = null;
    document.documentElement.dataset.live = "off";
    failures += 1;
    // A login that has ended (4401 twice running) stays off: the next API call goes to the login.
    if (event.code === 4401 && failures > 1) {
      return;
    }
    window.setTimeout(connect, Math.min(30_000, 1000 * failures));
  });
}

export function startLive() {
  const wake = () => {
    if (document.visibilityState === "visible") {
      check();
      connect();
    }
  };
  document.addEventListener("visibilitychange", wake);
  window.addEventListener("focus", wake);
  window.addEventListener("connection-changed", () => isOnline() && connect());
  window.setInterval(() => {
    if (socket === null || socket.readyState !== WebSocket.OPEN) {
      check();
    }
  }, POLL_MS);
  check();
  connect();
}
