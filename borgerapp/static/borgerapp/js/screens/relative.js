// A relative's or volunteer's view: only the citizens who let them in, only what each grant allows
// (progress; encouragement; logging a session for the citizen), while it is in force. Accept a new
// invitation code here too.
import { api, problemText } from "../api.js";
import { isOnline } from "../connection.js";
import { alert, field, formatDate, formatTime, h, replace, signed } from "../dom.js";
import { language, t } from "../i18n.js";
import { KINDS, send, stateOf } from "../outbox.js";
import { exercisePictures, logForm } from "./today.js";

// Today's training of a citizen who lets the relative log sessions, each pending slot with its button.
async function training(citizen, openForm) {
  const today = await api(`/relative/citizens/${citizen.citizen_id}/today`);
  return h("section", { "aria-labelledby": `training-${citizen.citizen_id}` },
    h("h3", { class: "h4", id: `training-${citizen.citizen_id}` }, t("training_of", { name: citizen.given_name })),
    today.slots.length ? h("ul", { class: "nobullet-list" }, today.slots.map((slot) => h("li", { class: "app-week-slot" },
      h("p", {}, formatTime(slot.scheduled_at, language(), today.time_zone), " ", slot.plan_title, " ",
        h("strong", { class: "tag tag-info" }, slot.status_name)),
      slot.exercises.map((exercise) => h("div", {}, h("p", { class: "app-exercise-title" }, exercise.title), exercisePictures(exercise, "thumbnail"))),
      slot.status === "pending" ? h("button", {
        type: "button", class: "button button-primary app-wide",
        onclick: () => openForm(citizen, slot),
      }, t("log_for", { name: citizen.given_name })) : null))) : h("p", {}, t("nothing_today_for", { name: citizen.given_name })));
}

async function progress(citizen) {
  const answer = await api(`/relative/citizens/${citizen.citizen_id}/progress`);
  return answer.episodes.map((episode) => h("div", {},
    h("h3", { class: "h4" }, episode.title || episode.kind_name),
    h("p", { class: "app-muted" }, t("course_ends", { date: formatDate(episode.planned_end_date, language()) })),
    h("ul", { class: "app-goal-list" }, episode.goals.map((goal) => h("li", {},
      goal.description, " – ",
      goal.latest_gas === null ? t("not_rated_yet") : t("latest_score", { score: signed(goal.latest_gas) }))))));
}

function encouragementForm(citizen) {
  const form = h("form", { class: "app-form", novalidate: true });
  const box = h("div");
  const text = h("textarea", { class: "form-input", rows: 2, maxlength: 500 });
  replace(form,
    field({ id: `cheer-${citizen.citizen_id}`, label: t("send_encouragement", { name: citizen.given_name }), input: text }),
    box,
    h("button", { type: "submit", class: "button button-primary app-wide" }, t("send")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!text.value.trim()) {
      box.replaceChildren(alert("error", t("write_something")));
      return;
    }
    try {
      await api(`/relative/citizens/${citizen.citizen_id}/encouragements`, { method: "POST", body: { text: text.value } });
      text.value = "";
      box.replaceChildren(alert("success", t("encouragement_sent")));
    } catch (error) {
      box.replaceChildren(alert("error", problemText(error.code)));
    }
  });
  return form;
}

function acceptForm(onAccepted) {
  const form = h("form", { class: "app-form", novalidate: true });
  const box = h("div");
  const code = h("input", { class: "form-input input-width-m", autocomplete: "off", maxlength: 20 });
  replace(form,
    field({ id: "accept-code", label: t("invitation_code"), hint: t("invitation_code_hint"), input: code }),
    box,
    h("button", { type: "submit", class: "button button-secondary app-wide" }, t("use_code")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await api("/relative/invitations/accept", { method: "POST", body: { code: code.value.trim() } });
      onAccepted();
    } catch (error) {
      box.replaceChildren(alert("error", problemText(error.code)));
    }
  });
  return form;
}

export async function render(main, { setTitle, notice = null }) {
  setTitle(t("my_citizens"));
  const citizens = await api("/relative/citizens");
  const again = async (options = {}) => {
    await render(main, { setTitle, ...options });
    main.focus();
  };
  const openForm = (citizen, slot) => {
    const form = logForm({
      slot, planId: slot.training_plan_id, exercises: slot.exercises,
      title: `${slot.plan_title} – ${citizen.given_name}`,
      kind: KINDS.relativeSession, path: `/relative/citizens/${citizen.citizen_id}/session-logs`,
    }, async (log) => {
      if (!log) {
        await again();
        return;
      }
      try {
        if (isOnline()) {
          await send();
        }
      } catch {
        // No connection: the session waits in the outbox.
      }
      const result = await stateOf(log.id);
      const texts = { sent: t("logged_for", { name: citizen.given_name }), waiting: t("logged_for_waiting") };
      await again({ notice: result.state === "refused" ? { kind: "error", text: problemText(result.code) } : { kind: "success", text: texts[result.state] } });
    });
    replace(main, h("h1", { id: "screen-title" }, t("log_for", { name: citizen.given_name })), form);
    form.querySelector("input, textarea")?.focus();
  };
  const cards = await Promise.all(citizens.items.map(async (citizen) => h("li", { class: "app-card" },
    h("h2", { class: "h3" }, citizen.given_name),
    h("p", { class: "app-muted" }, t("you_may"), " ", citizen.scopes.map((scope) => t(`granted_${scope}`)).join(", "),
      citizen.valid_until ? ` · ${t("until_date", { date: formatDate(citizen.valid_until, language()) })}` : ""),
    citizen.scopes.includes("view_progress") ? await progress(citizen) : null,
    citizen.scopes.includes("log_sessions") ? await training(citizen, openForm) : null,
    citizen.scopes.includes("send_encouragement") ? encouragementForm(citizen) : null)));
  replace(main,
    h("h1", { id: "screen-title" }, t("my_citizens")),
    notice ? alert(notice.kind, notice.text) : null,
    cards.length ? h("ul", { class: "nobullet-list app-cards" }, cards) : h("p", { class: "app-lead" }, t("no_citizens")),
    acceptForm(async () => {
      await render(main, { setTitle });
      main.focus();
    }));
}
