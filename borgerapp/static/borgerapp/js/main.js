// The citizen app: a screen per route (#/i-dag …), the navigation, the connection and outbox status,
// and the service worker that lets the app open offline.
import { config, problemText } from "./api.js";
import { alert, h, replace } from "./dom.js";
import { language, t } from "./i18n.js";
import { startLive } from "./live.js";
import { discard, send, waiting } from "./outbox.js";

const CITIZEN_ROUTES = {
  "i-dag": { text: "today", load: () => import("./screens/today.js") },
  maal: { text: "goals", load: () => import("./screens/goals.js") },
  beskeder: { text: "messages", load: () => import("./screens/messages.js") },
  mere: { text: "more", load: null },
  plan: { text: "plan", load: () => import("./screens/plan.js") },
  spoergeskemaer: { text: "questionnaires", load: () => import("./screens/questionnaires.js") },
  netvaerk: { text: "network", load: () => import("./screens/network.js") },
  "hvem-har-set": { text: "access", load: () => import("./screens/access.js") },
  mig: { text: "me", load: () => import("./screens/me.js") },
};
const RELATIVE_ROUTES = {
  borgere: { text: "my_citizens", load: () => import("./screens/relative.js") },
  beskeder: { text: "messages", load: () => import("./screens/messages.js") },
  mig: { text: "me", load: () => import("./screens/me.js") },
};
const CITIZEN_NAV = ["i-dag", "maal", "beskeder", "mere"];
const MORE = ["plan", "spoergeskemaer", "netvaerk", "hvem-har-set", "mig"];

const main = document.getElementById("main");
let routes = CITIZEN_ROUTES;
let navKeys = CITIZEN_NAV;
let unread = 0;

function route() {
  const key = window.location.hash.replace(/^#\/?/, "");
  return key in routes ? key : navKeys[0];
}

function setTitle(text) {
  document.title = `${text} – Mestring`;
}

function drawNav() {
  const current = route();
  const active = MORE.includes(current) && navKeys === CITIZEN_NAV ? "mere" : current;
  replace(document.getElementById("nav"), h("ul", { class: "nobullet-list app-nav-list" }, navKeys.map((key) => h("li", {},
    h("a", { href: `#/${key}`, class: "app-nav-link", "aria-current": key === active ? "page" : null },
      t(routes[key].text),
      key === "beskeder" && unread ? h("span", { class: "app-badge" }, h("span", { class: "sr-only" }, ", "), t("unread_count", { count: unread })) : null)))));
}

function moreScreen() {
  setTitle(t("more"));
  replace(main,
    h("h1", { id: "screen-title" }, t("more")),
    h("ul", { class: "nobullet-list app-more" }, MORE.map((key) => h("li", {},
      h("a", { href: `#/${key}`, class: "button button-secondary app-wide" }, t(routes[key].text))))));
}

async function show() {
  const key = route();
  drawNav();
  try {
    if (key === "mere") {
      moreScreen();
    } else {
      const screen = await routes[key].load();
      await screen.render(main, { setTitle });
    }
  } catch (error) {
    replace(main, h("h1", { id: "screen-title" }, t(routes[key].text)),
      alert("error", error.code === "network" ? t("offline_no_data") : problemText(error.code)));
  }
  if (key === "i-dag") {
    await drawQueue();
  }
}

// What waits to be sent, on the today screen: each session, and why the server refused one if it did.
async function drawQueue() {
  const items = await waiting();
  const status = document.getElementById("outbox-status");
  replace(status, items.length ? h("p", {}, t("queue_count", { count: items.length })) : null);
  status.hidden = !items.length;
  const old = document.getElementById("queue");
  if (old) {
    old.remove();
  }
  if (!items.length || route() !== "i-dag") {
    return;
  }
  main.append(h("section", { id: "queue", class: "app-card", "aria-labelledby": "queue-title" },
    h("h2", { class: "h3", id: "queue-title" }, t("waiting_to_send")),
    h("ul", { class: "nobullet-list" }, items.map((item) => h("li", { class: "app-queue-item" },
      new Date(item.performed_at).toLocaleString(language() === "en" ? "en-GB" : "da-DK", { day: "numeric", month: "long", hour: "2-digit", minute: "2-digit" }),
      item.problem ? [
        h("p", { class: "app-refused" }, problemText(item.problem)),
        h("button", { type: "button", class: "button button-secondary", onclick: () => discard(item.id) }, t("remove")),
      ] : h("span", { class: "app-muted" }, ` – ${t("status_queued").toLowerCase()}`)))),
    navigator.onLine ? h("button", { type: "button", class: "button button-secondary app-wide", onclick: () => sync(true) }, t("send_now")) : null));
}

async function sync(redraw = false) {
  if (!navigator.onLine) {
    return;
  }
  try {
    const sent = await send();
    if ((sent || redraw) && route() === "i-dag") {
      await show();
    }
  } catch {
    // Still no connection to the server: the queue waits for the next chance.
  }
}

function drawConnection() {
  const element = document.getElementById("connection");
  element.textContent = navigator.onLine ? "" : t("offline");
  element.hidden = navigator.onLine;
}

async function start() {
  document.documentElement.lang = language();
  drawConnection();
  if (!config.roles.includes("citizen") && config.roles.includes("relative")) {
    routes = RELATIVE_ROUTES;
    navKeys = ["borgere", "beskeder", "mig"];
  }
  window.addEventListener("hashchange", async () => {
    await show();
    main.focus();
  });
  window.addEventListener("online", () => {
    drawConnection();
    sync(true);
  });
  window.addEventListener("offline", drawConnection);
  window.addEventListener("outbox-changed", drawQueue);
  window.addEventListener("inbox-changed", async (event) => {
    const changed = event.detail.unread !== unread;
    unread = event.detail.unread;
    drawNav();
    if (changed && route() === "beskeder" && !main.querySelector("form")) {
      await show();
    }
  });
  await show();
  sync();
  startLive();
  if ("serviceWorker" in navigator) {
    const firstInstall = !navigator.serviceWorker.controller;
    navigator.serviceWorker.addEventListener("controllerchange", () => {
      // The worker took over only after this screen's data was fetched: fetch it again through the
      // worker, so that it is there the next time the app opens without a connection.
      if (firstInstall && !main.querySelector("form")) {
        show();
      }
    });
    navigator.serviceWorker.register(config.serviceWorker, { scope: config.serviceWorker.replace(/sw\.js$/, "") });
  }
}

start();
