// Min plan: this week, day by day, with what is done, missed and coming, drawn from the training kept on
// the device (sync.js), so it opens without a connection too; then (offline, or the last walk found no
// connection), and when what is kept is stale, it says how old it is.
import { formatDate, formatTime, h, isoDay, replace } from "../dom.js";
import { language, t } from "../i18n.js";
import { isOnline } from "../connection.js";
import { isStale, isUnreachable, kept } from "../sync.js";

const STATUS_TAG = { pending: "tag-info", done: "tag-success", missed: "tag-warning" };
const MINUTE = 60 * 1000;

// "Opdateret for 5 minutter siden": in whole minutes, hours or days.
function ageText(syncedAt, now = Date.now()) {
  const minutes = Math.max(0, Math.floor((now - Date.parse(syncedAt)) / MINUTE));
  if (minutes < 1) {
    return t("updated_now");
  }
  if (minutes < 60) {
    return t("updated_minutes", { count: minutes });
  }
  const hours = Math.floor(minutes / 60);
  return hours < 24 ? t("updated_hours", { count: hours }) : t("updated_days", { count: Math.floor(hours / 24) });
}

function isAgeSaid(syncedAt) {
  return !isOnline() || isUnreachable() || isStale(syncedAt);
}

function ageLine(syncedAt) {
  return h("p", { id: "data-age", class: "app-data-age", hidden: !isAgeSaid(syncedAt) },
    h("time", { datetime: syncedAt }, ageText(syncedAt)));
}

// The line says the age anew as time passes and the connection comes and goes, and after a walk; only
// its words change, nothing else on the screen.
function sayAge(syncedAt) {
  const line = document.getElementById("data-age");
  if (!line) {
    return;
  }
  const time = line.querySelector("time");
  if (syncedAt) {
    time.dateTime = syncedAt;
  }
  time.textContent = ageText(time.dateTime);
  line.hidden = !isAgeSaid(time.dateTime);
}

window.addEventListener("connection-changed", () => sayAge());
window.addEventListener("synced", (event) => sayAge(event.detail.syncedAt));
window.addEventListener("sync-failed", () => sayAge());
window.setInterval(() => sayAge(), 30 * 1000);

function weekOf(today) {
  const monday = new Date(today);
  monday.setDate(today.getDate() - ((today.getDay() + 6) % 7));
  return Array.from({ length: 7 }, (_, index) => {
    const day = new Date(monday);
    day.setDate(monday.getDate() + index);
    return isoDay(day);
  });
}

// The week's slots of the active plans, by day, each with its plan, its time zone and its exercises (those
// of the version it was made from, when that version is kept; else the plan's current one).
function slotsByDay(training, days) {
  const plans = training.items("plan");
  const versions = training.items("version");
  const exercises = training.items("exercise");
  const byDay = new Map(days.map((day) => [day, []]));
  for (const slot of training.items("slot").values()) {
    const plan = plans.get(String(slot.training_plan_id));
    if (!byDay.has(slot.local_date) || !plan || plan.status !== "active" || slot.status === "cancelled") {
      continue;
    }
    const version = versions.get(String(slot.plan_version_id)) || plan.current_version;
    const planned = version ? [...version.exercises].sort((first, second) => first.position - second.position) : [];
    byDay.get(slot.local_date).push({
      ...slot,
      plan_title: plan.title,
      time_zone: version ? version.time_zone : undefined,
      exercises: planned.map((item) => exercises.get(String(item.exercise_id))).filter(Boolean),
    });
  }
  for (const slots of byDay.values()) {
    slots.sort((first, second) => first.scheduled_at.localeCompare(second.scheduled_at));
  }
  return byDay;
}

function slotLine(slot) {
  return h("li", { class: "app-week-slot" },
    h("span", {}, formatTime(slot.scheduled_at, language(), slot.time_zone), " ", slot.plan_title),
    " ", h("strong", { class: `tag ${STATUS_TAG[slot.status] || ""}` }, t(`slot_${slot.status}`)),
    h("ul", { class: "nobullet-list app-week-exercises" }, slot.exercises.map((exercise) => h("li", { class: "app-week-exercise" },
      exercise.images.length ? h("img", {
        class: "app-exercise-image", src: exercise.images[0].urls.thumbnail, alt: exercise.images[0].alt_text || exercise.title,
        width: exercise.images[0].width, height: exercise.images[0].height, loading: "lazy", decoding: "async",
      }) : null,
      exercise.title))));
}

export async function render(main, { setTitle, isShown }) {
  setTitle(t("plan"));
  const training = await kept();
  if (!isShown()) {
    return;
  }
  const today = isoDay(new Date());
  const byDay = slotsByDay(training, weekOf(new Date()));
  const counts = { done: 0, missed: 0, pending: 0 };
  for (const slots of byDay.values()) {
    slots.forEach((slot) => {
      counts[slot.status] = (counts[slot.status] || 0) + 1;
    });
  }
  replace(main,
    h("h1", { id: "screen-title" }, t("plan")),
    ageLine(training.syncedAt),
    h("p", { class: "app-lead" }, t("week_summary", counts)),
    h("ol", { class: "nobullet-list app-week", "data-revision": training.revision }, [...byDay].map(([day, slots]) => h("li", {
      class: `app-card app-day${day === today ? " app-today" : ""}`,
    },
    h("h2", { class: "h4" }, formatDate(day, language(), { weekday: "long", day: "numeric", month: "long" }),
      day === today ? ` – ${t("today").toLowerCase()}` : ""),
    slots.length ? h("ul", { class: "nobullet-list" }, slots.map(slotLine)) : h("p", { class: "app-muted" }, t("rest_day"))))));
}
