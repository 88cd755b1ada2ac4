// Min plan: this week, day by day, with what is done, missed and coming.
import { api } from "../api.js";
import { formatDate, formatTime, h, isoDay, replace } from "../dom.js";
import { language, t } from "../i18n.js";

const STATUS_TAG = { pending: "tag-info", done: "tag-success", missed: "tag-warning" };

export async function render(main, { setTitle }) {
  setTitle(t("plan"));
  const today = new Date();
  const monday = new Date(today);
  monday.setDate(today.getDate() - ((today.getDay() + 6) % 7));
  const days = Array.from({ length: 7 }, (_, index) => {
    const day = new Date(monday);
    day.setDate(monday.getDate() + index);
    return isoDay(day);
  });
  const answers = await Promise.all(days.map((day) => api(`/me/today?date=${day}`)));
  const counts = { done: 0, missed: 0, pending: 0 };
  answers.forEach((answer) => answer.slots.forEach((slot) => {
    counts[slot.status] = (counts[slot.status] || 0) + 1;
  }));
  replace(main,
    h("h1", { id: "screen-title" }, t("plan")),
    h("p", { class: "app-lead" }, t("week_summary", counts)),
    h("ol", { class: "nobullet-list app-week" }, answers.map((answer) => h("li", {
      class: `app-card app-day${answer.date === isoDay(today) ? " app-today" : ""}`,
    },
    h("h2", { class: "h4" }, formatDate(answer.date, language(), { weekday: "long", day: "numeric", month: "long" }),
      answer.date === isoDay(today) ? ` – ${t("today").toLowerCase()}` : ""),
    answer.slots.length
      ? h("ul", { class: "nobullet-list" }, answer.slots.map((slot) => h("li", { class: "app-week-slot" },
        h("span", {}, formatTime(slot.scheduled_at, language(), answer.time_zone), " ", slot.plan_title),
        " ", h("strong", { class: `tag ${STATUS_TAG[slot.status] || ""}` }, slot.status_name),
        h("ul", { class: "nobullet-list app-week-exercises" }, slot.exercises.map((exercise) => h("li", { class: "app-week-exercise" },
          exercise.images.length ? h("img", {
            class: "app-exercise-image", src: exercise.images[0].urls.thumbnail, alt: exercise.images[0].alt_text || exercise.title,
            width: exercise.images[0].width, height: exercise.images[0].height, loading: "lazy", decoding: "async",
          }) : null,
          exercise.title))))))
      : h("p", { class: "app-muted" }, t("rest_day"))))));
}
