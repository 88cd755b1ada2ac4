// The citizen app: a screen per route (#/i-dag …), the navigation, the connection and outbox status,
// and the service worker that lets the app open offline.
import { api, clientId, config, loginEnded, prefetch, problemText, whenLoginEnds, whoIsLoggedIn } from "./api.js";
import { isOnline, probe } from "./connection.js";
import { alert, focusMark, formatDateTime, h, isoDay, replace, restoreFocus } from "./dom.js";
import { language, t } from "./i18n.js";
import { startLive } from "./live.js";
import { KINDS, closeOutbox, discard, enqueue, items, retry, send, setOwner, waiting } from "./outbox.js";
import { WEEK_KEPT_KEY, forgetLogin, isOver, knownIdentity, rememberIdentity } from "./session.js";
import { closeSync, prepare as prepareSync, refresh, revision } from "./sync.js";

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
// Counts the screens drawn: a screen still fetching draws again only while it is the one shown.
let drawn = 0;
// The outbox tidied for this start (what others queued and what was sent before are gone): awaited
// before it is listed, not before the first screen is drawn.
let tidied = Promise.resolve();
// Set once the login has ended: from then on no screen and no queue is drawn again.
let hasEnded = false;
// The screen drawn last.
let shownRoute = null;

function route() {
  const key = window.location.hash.replace(/^#\/?/, "");
  return key in routes ? key : navKeys[0];
}

function setTitle(text) {
  document.title = `${text} – Mestring`;
}

// Drawn with every screen: a link that had the focus has it again in the new drawing.
function drawNav() {
  const current = route();
  const active = MORE.includes(current) && navKeys === CITIZEN_NAV ? "mere" : current;
  const nav = document.getElementById("nav");
  const mark = focusMark(nav);
  replace(nav, h("ul", { class: "nobullet-list app-nav-list" }, navKeys.map((key) => h("li", {},
    h("a", { href: `#/${key}`, class: "app-nav-link", "aria-current": key === active ? "page" : null },
      t(routes[key].text),
      key === "beskeder" && unread ? h("span", { class: "app-badge" }, h("span", { class: "sr-only" }, ", "), t("unread_count", { count: unread })) : null)))));
  restoreFocus(nav, mark);
}

function moreScreen() {
  setTitle(t("more"));
  replace(main,
    h("h1", { id: "screen-title" }, t("more")),
    h("ul", { class: "nobullet-list app-more" }, MORE.map((key) => h("li", {},
      h("a", { href: `#/${key}`, class: "button button-secondary app-wide" }, t(routes[key].text))))));
}

async function show() {
  if (hasEnded) {
    return;
  }
  const key = route();
  const number = ++drawn;
  // Drawn again in place (not a move to another screen): the focus stays where it was.
  const mark = key === shownRoute ? focusMark(main) : null;
  shownRoute = key;
  drawNav();
  try {
    if (key === "mere") {
      moreScreen();
    } else {
      const screen = await routes[key].load();
      await screen.render(main, { setTitle, isShown: () => number === drawn && !main.querySelector("form") });
    }
  } catch (error) {
    if (hasEnded) {
      return;
    }
    replace(main, h("h1", { id: "screen-title" }, t(routes[key].text)),
      alert("error", error.code === "network" ? t("offline_no_data") : problemText(error.code)));
  }
  await drawQueue();
  restoreFocus(main, mark);
}

// What waits to be sent and what was sent, on the screen where it was written: each item, and why the
// server refused one if it did, with what the user can do about it.
const QUEUE_ON = {
  "i-dag": [KINDS.session],
  maal: [KINDS.rating],
  beskeder: [KINDS.request],
  spoergeskemaer: [KINDS.answer],
  borgere: [KINDS.relativeSession],
};

// What an item of the outbox is, and when it was done or written.
function itemText(item) {
  const when = new Date(item.body.performed_at || item.queued_at)
    .toLocaleString(language() === "en" ? "en-GB" : "da-DK", { day: "numeric", month: "long", hour: "2-digit", minute: "2-digit" });
  return [item.label || t("queue_session"), " · ", when];
}

function queueLine(item) {
  let state;
  if (item.sent_at) {
    state = h("strong", { class: "tag tag-success" }, t("status_sent"));
  } else if (item.problem) {
    state = [
      h("strong", { class: "tag tag-error" }, item.status === 409 ? t("status_conflict") : t("status_refused")),
      h("p", { class: "app-refused" }, problemText(item.problem)),
      item.errors && item.errors.length
        ? h("ul", { class: "app-refused-errors" }, item.errors.map((error) => h("li", {}, error.message))) : null,
      h("div", { class: "app-queue-actions" },
        item.kind === KINDS.session && item.body.slot_id && item.status === 409
          ? h("button", { type: "button", class: "button button-secondary", onclick: () => keepAsExtra(item) }, t("keep_as_extra")) : null,
        h("button", { type: "button", class: "button button-secondary", onclick: () => retry(item.id).catch(() => null) }, t("send_again")),
        h("button", { type: "button", class: "button button-secondary", onclick: () => discard(item.id) }, t("remove"))),
    ];
  } else {
    state = h("strong", { class: "tag tag-info" }, t("status_queued"));
  }
  return h("li", { class: "app-queue-item", "data-kind": item.kind }, h("span", {}, itemText(item), " "), state);
}

// A session refused because its slot was filled meanwhile (on another phone, by a relative) is kept as
// an extra session under a new id instead.
async function keepAsExtra(item) {
  const id = clientId();
  await discard(item.id);
  await enqueue({ kind: item.kind, path: item.path, label: item.label, id, body: { ...item.body, id, slot_id: null } });
  await sync(true);
}

async function drawQueue() {
  await tidied;
  if (hasEnded) {
    return;
  }
  const all = await items();
  const pending = all.filter((item) => !item.sent_at);
  const refused = pending.filter((item) => item.problem).length;
  const status = document.getElementById("outbox-status");
  replace(status, pending.length ? h("p", {}, pending.length > refused ? t("queue_count", { count: pending.length - refused }) : null,
    refused ? [" ", t("refused_count", { count: refused })] : null) : null);
  status.hidden = !pending.length;
  const old = document.getElementById("queue");
  if (old) {
    old.remove();
  }
  const kinds = QUEUE_ON[route()] || [];
  const shown = all.filter((item) => kinds.includes(item.kind));
  if (!shown.length) {
    return;
  }
  const isWaiting = shown.some((item) => !item.sent_at && !item.problem);
  main.append(h("section", { id: "queue", class: "app-card", "aria-labelledby": "queue-title" },
    h("h2", { class: "h3", id: "queue-title" }, t("outbox_title")),
    h("ul", { class: "nobullet-list" }, shown.map(queueLine)),
    isOnline() && isWaiting ? h("button", { type: "button", class: "button button-secondary app-wide", onclick: () => sync(true) }, t("send_now")) : null));
}

async function sync(redraw = false) {
  if (!isOnline() || hasEnded) {
    return;
  }
  let sent = 0;
  try {
    sent = await send();
    if ((sent || redraw) && route() in QUEUE_ON && !main.querySelector("form")) {
      await show();
    } else {
      await drawQueue();
    }
  } catch {
    // Still no connection to the server: the queue waits for the next chance.
  }
  if (!sent) {
    // At start and when the connection returns (what was sent starts a walk of its own: "outbox-sent").
    walk();
  }
}

// The training kept on the device (sync.js) brought up to date: at start, when the connection returns,
// after the outbox sent something and when the live stream says something changed. Never once the login
// has ended: a walk that meets the end (a 401) stops there.
function walk() {
  if (hasEnded || !isOnline() || !config.roles.includes("citizen")) {
    return;
  }
  refresh().catch(() => null);
}

// After a walk that changed what is kept, Min plan is drawn again if it is the screen shown and was drawn
// from less (or could not be drawn); no other screen is drawn again, and the focus stays where it is.
function walked() {
  const drawnFrom = main.querySelector("[data-revision]");
  const isBehind = !drawnFrom || Number(drawnFrom.dataset.revision) !== revision();
  if (!hasEnded && route() === "plan" && shownRoute === "plan" && isBehind && !main.querySelector("form")) {
    show();
  }
}

// A reminder that arrived while the app is open: said at the top of whatever screen is shown (Beskeder
// lists it itself), with the way to the inbox, until it is closed or the inbox is opened.
function showReminder(notification) {
  const notice = document.getElementById("live-notice");
  if (hasEnded || route() === "beskeder") {
    return;
  }
  const close = () => replace(notice);
  replace(notice, h("div", { class: "alert alert-info", "data-notification": notification.id },
    h("div", { class: "alert-body" },
      h("p", { class: "alert-heading" }, t("reminder_now")),
      h("p", { class: "alert-text" }, notification.text),
      h("div", { class: "app-live-actions" },
        h("a", { href: "#/beskeder", class: "button button-secondary", onclick: close }, t("see_messages")),
        h("button", { type: "button", class: "button button-tertiary", onclick: close }, t("close_notice"))))));
}

// The oldest kept answer shown since the connection went: what the screens show is at least that old.
let keptSince = null;

function drawConnection() {
  if (isOnline()) {
    keptSince = null;
  }
  const element = document.getElementById("connection");
  const age = keptSince ? ` ${t("kept_from", { when: formatDateTime(keptSince, language()) })}` : "";
  element.textContent = isOnline() ? "" : t("offline") + age;
  element.hidden = isOnline();
}

function keptAnswer(event) {
  if (!keptSince || event.detail < keptSince) {
    keptSince = event.detail;
  }
  drawConnection();
}

// The login has ended: at its absolute end (known since login, so also without a connection) or when
// the server answered 401 (signed out on every device, or unused too long). Everything kept of it goes
// at once: the kept answers, who was logged in, and the outbox, after the citizen is shown what in it
// the server never got. With nothing to tell, the login page follows as soon as the server can be reached.
async function endLogin(reason) {
  hasEnded = true;
  closeSync();
  const unsent = await waiting().catch(() => []);
  await closeOutbox();
  await forgetLogin({ outbox: true });
  if (!unsent.length) {
    // Believed offline, the server is asked first; still not reached, the login follows once it is.
    if (isOnline() || await probe()) {
      window.location.assign(config.login);
      return;
    }
    window.addEventListener("connection-changed", () => isOnline() && window.location.assign(config.login));
  }
  drawEnded(reason, unsent);
}

function drawEnded(reason, unsent) {
  setTitle(t("logged_out"));
  // Nothing kept is shown any more: the banner no longer says how old it is.
  keptSince = null;
  window.removeEventListener("kept-answer", keptAnswer);
  drawConnection();
  replace(document.getElementById("nav"));
  replace(document.getElementById("live-notice"));
  const status = document.getElementById("outbox-status");
  replace(status);
  status.hidden = true;
  replace(main,
    h("h1", { id: "screen-title" }, t("logged_out")),
    h("p", { class: "app-lead" }, t(reason === "expired" ? "login_expired" : "login_ended")),
    unsent.length ? h("section", { id: "not-sent", class: "alert alert-warning", "aria-labelledby": "not-sent-title" },
      h("div", { class: "alert-body" },
        h("h2", { class: "alert-heading h3", id: "not-sent-title" }, t("not_sent_title", { count: unsent.length })),
        h("p", { class: "alert-text" }, t("not_sent_text")),
        h("ul", {}, unsent.map((item) => h("li", {}, itemText(item)))))) : null,
    isOnline() ? null : h("p", {}, t("log_in_when_online")),
    h("a", { href: config.login, class: "button button-primary app-wide" }, t("log_in_again")));
  main.focus();
}

// Offline, and no answer of this login says who is logged in or until when: nothing kept is shown.
function drawUnchecked() {
  setTitle(t("log_in"));
  replace(main,
    h("h1", { id: "screen-title" }, t("log_in")),
    h("p", { class: "app-lead" }, t("login_unchecked")),
    h("a", { href: config.login, class: "button button-primary app-wide" }, t("log_in")));
}

// At the login's end the kept data goes, whether or not there is a connection; a phone that slept past
// it (its timers held back) checks again when it is looked at.
function watchLoginEnd(who) {
  if (who.ends_at === null) {
    return;
  }
  const check = () => {
    if (isOver(who)) {
      loginEnded("expired");
    }
  };
  const arm = () => {
    // A timer longer than 2^31 - 1 ms fires at once: the wait is cut in steps.
    const wait = Math.min(who.ends_at - Date.now(), 2 ** 31 - 1);
    window.setTimeout(() => (isOver(who) ? check() : arm()), Math.max(wait, 0));
  };
  arm();
  document.addEventListener("visibilitychange", check);
  window.addEventListener("focus", check);
}

// The next seven days' training and the exercises' pictures in it, the active plans (an extra session)
// and the goals with their ratings, fetched through the service worker (which keeps what passes through
// it) once it controls the app: opened without a connection on any of those days, the app shows that
// day's list, logs extra sessions and shows Mine mål. Once a day is enough.
async function keepTheWeekAhead() {
  const today = isoDay(new Date());
  const isDone = localStorage.getItem(WEEK_KEPT_KEY) === today;
  if (isDone || hasEnded || !isOnline() || !navigator.serviceWorker?.controller || !config.roles.includes("citizen")) {
    return;
  }
  const days = [1, 2, 3, 4, 5, 6, 7].map((offset) => {
    const day = new Date();
    day.setDate(day.getDate() + offset);
    return isoDay(day);
  });
  const [todayScreen, goalsScreen] = await Promise.all([import("./screens/today.js"), import("./screens/goals.js")]);
  let pictures;
  try {
    pictures = await todayScreen.keepForOffline(days);
  } catch {
    return;
  }
  await Promise.all([goalsScreen.keepForOffline().catch(() => null), ...[...pictures].map((url) => fetch(url).catch(() => null))]);
  localStorage.setItem(WEEK_KEPT_KEY, today);
}

// Who is logged in and until when: asked of the API once per login (the shell itself is the same for
// everyone), before anything kept is shown. Null when the login has ended or nobody answered.
async function identity() {
  const known = knownIdentity();
  if (known) {
    return known;
  }
  let fresh;
  try {
    fresh = await whoIsLoggedIn();
  } catch {
    // Offline before the API was ever asked after this login, or the login ended (401).
    return null;
  }
  if (isOver(fresh)) {
    await loginEnded("expired");
    return null;
  }
  rememberIdentity(fresh);
  return fresh;
}

// The shell is kept by the service worker in the language it was fetched in: its own words follow the app's.
function shellInLanguage() {
  document.documentElement.lang = language();
  document.querySelector(".skipnav").textContent = t("skip_to_content");
  document.getElementById("nav").setAttribute("aria-label", t("main_menu"));
  const loading = document.querySelector(".app-loading");
  if (loading) {
    loading.textContent = t("loading");
  }
}

async function start() {
  shellInLanguage();
  // Before the first request: an answer from the kept copies says how old it is.
  window.addEventListener("kept-answer", keptAnswer);
  whenLoginEnds(endLogin);
  window.addEventListener("connection-changed", drawConnection);
  drawConnection();
  const known = knownIdentity();
  if (known && isOver(known)) {
    await loginEnded("expired");
    return;
  }
  if (route() === "i-dag" && (!known || known.roles.includes("citizen"))) {
    // Today's data is asked for at once, while the rest starts (shown only once the login is checked).
    prefetch("/me/today");
  }
  const who = known || await identity();
  if (hasEnded) {
    return;
  }
  if (!who) {
    drawUnchecked();
    return;
  }
  config.roles = who.roles;
  tidied = setOwner(who.id).catch(() => null);
  if (who.roles.includes("citizen")) {
    prepareSync(who.id).catch(() => null);
  }
  watchLoginEnd(who);
  if (!who.roles.includes("citizen") && who.roles.includes("relative")) {
    routes = RELATIVE_ROUTES;
    navKeys = ["borgere", "beskeder", "mig"];
  }
  window.addEventListener("hashchange", async () => {
    if (route() === "beskeder") {
      replace(document.getElementById("live-notice"));
    }
    await show();
    main.focus();
  });
  window.addEventListener("connection-changed", () => isOnline() && sync(true));
  window.addEventListener("outbox-changed", drawQueue);
  window.addEventListener("synced", walked);
  window.addEventListener("server-changed", walk);
  window.addEventListener("outbox-sent", walk);
  window.addEventListener("reminder-arrived", (event) => showReminder(event.detail));
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
  keepTheWeekAhead();
  if ("serviceWorker" in navigator) {
    const firstInstall = !navigator.serviceWorker.controller;
    navigator.serviceWorker.addEventListener("controllerchange", () => {
      // The worker took over only after today's list was fetched: fetch it again through the worker,
      // so that it is there the next time the app opens without a connection (the rest of the week with
      // it). Nothing is drawn again: the citizen may be choosing, writing or reading what they just did.
      if (firstInstall && config.roles.includes("citizen")) {
        api("/me/today").catch(() => null);
      }
      keepTheWeekAhead();
    });
    navigator.serviceWorker.register(config.serviceWorker, { scope: config.serviceWorker.replace(/sw\.js$/, "") });
  }
}

start();
