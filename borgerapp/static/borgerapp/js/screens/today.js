// I dag: today's training with the exercises' pictures, dosage and instructions; log a slot or an
// ad-hoc session (through the outbox, so it works the same with and without a connection).
import { ApiError, api, cachedAnswer, clientId, problemText } from "../api.js";
import { isOnline } from "../connection.js";
import { alert, field, focusMark, formatDateTime, formatTime, h, isoDay, replace, restoreFocus, scale } from "../dom.js";
import { language, t } from "../i18n.js";
import { KINDS, enqueue, send, stateOf, waiting } from "../outbox.js";

export function dosage(item) {
  const parts = [];
  if (item.sets && item.repetitions) {
    parts.push(t("dosage_sets_reps", { sets: item.sets, reps: item.repetitions }));
  } else if (item.repetitions) {
    parts.push(t("dosage_reps", { reps: item.repetitions }));
  } else if (item.sets) {
    parts.push(t("dosage_sets", { sets: item.sets }));
  }
  if (item.hold_seconds) {
    parts.push(t("dosage_hold", { seconds: item.hold_seconds }));
  }
  if (item.duration_seconds) {
    parts.push(t("dosage_duration", { minutes: Math.round(item.duration_seconds / 60) || 1 }));
  }
  if (item.load_kg) {
    // Said as numbers are in the app's language: 2,5 kg in Danish.
    const kg = Number(item.load_kg).toLocaleString(language() === "en" ? "en-GB" : "da-DK", { maximumFractionDigits: 2 });
    parts.push(t("dosage_load", { kg }));
  }
  return parts.join(" · ");
}

// The exercise's pictures (the shipped drawings: start and end position) side by side, each with its words.
export function exercisePictures(exercise, size = "medium") {
  if (!exercise.images.length) {
    return null;
  }
  return h("div", { class: "app-exercise-pictures" }, exercise.images.slice(0, 2).map((image) => h("img", {
    class: "app-exercise-image", src: image.urls[size], alt: image.alt_text || exercise.title,
    width: image.width, height: image.height, loading: "lazy", decoding: "async",
  })));
}

function exerciseCard(exercise) {
  return h("li", { class: "app-exercise" },
    h("h3", { class: "h4 app-exercise-title" }, exercise.title),
    exercisePictures(exercise),
    h("div", { class: "app-exercise-body" },
      h("p", { class: "app-dosage" }, dosage(exercise)),
      exercise.individual_instructions ? h("p", { class: "app-own-words" }, exercise.individual_instructions) : null,
      exercise.instructions ? h("details", { class: "app-details" },
        h("summary", {}, t("how_to")),
        h("p", {}, exercise.instructions)) : null));
}

const STATUS_TAG = { pending: "tag-info", done: "tag-success", missed: "tag-warning" };

function slotCard(slot, timeZone, queued, onLog) {
  const isQueued = queued.has(slot.id);
  const status = isQueued ? t("status_queued") : slot.status_name;
  const canLog = slot.status === "pending" && !isQueued;
  return h("li", { class: "app-card app-slot" },
    h("h2", { class: "h3 app-slot-title" },
      h("span", { class: "app-slot-time" }, formatTime(slot.scheduled_at, language(), timeZone)), " ", slot.plan_title),
    h("p", {}, h("strong", { class: `tag ${isQueued ? "tag-info" : STATUS_TAG[slot.status] || ""}` }, status)),
    h("ul", { class: "nobullet-list app-exercises" }, slot.exercises.map(exerciseCard)),
    canLog ? h("button", { type: "button", class: "button button-primary app-wide", onclick: () => onLog(slot) },
      t("log_training")) : null);
}

function numberInput(name, value, max, { step = 1, decimal = false } = {}) {
  return h("input", {
    class: "form-input input-width-xs", type: "number", inputmode: decimal ? "decimal" : "numeric", min: 0, max, step, name, value: value ?? "",
  });
}

// Each of sets, repetitions, hold, time and load appears when the exercise's dosage has it (a plank is
// held, a walk is timed and has no repetitions, a curl has a weight), with the value the plan asks for;
// a dosage with none of them gets sets and repetitions to fill in.
function dosageFields(exercise, index) {
  const fields = [];
  const none = !(exercise.sets || exercise.repetitions || exercise.hold_seconds || exercise.duration_seconds || exercise.load_kg);
  if (exercise.sets || none) {
    fields.push(field({ id: `sets-${index}`, label: t("sets"), input: numberInput(`sets-${index}`, exercise.sets, 100) }));
  }
  if (exercise.repetitions || none) {
    fields.push(field({ id: `reps-${index}`, label: t("repetitions"), input: numberInput(`reps-${index}`, exercise.repetitions, 1000) }));
  }
  if (exercise.hold_seconds) {
    fields.push(field({ id: `hold-${index}`, label: t("hold_seconds"), input: numberInput(`hold-${index}`, exercise.hold_seconds, 3600) }));
  }
  if (exercise.duration_seconds) {
    const minutes = Math.round(exercise.duration_seconds / 6) / 10;
    fields.push(field({ id: `duration-${index}`, label: t("duration_minutes"), input: numberInput(`duration-${index}`, minutes, 1440, { step: 0.5, decimal: true }) }));
  }
  if (exercise.load_kg) {
    fields.push(field({ id: `load-${index}`, label: t("load_kg"), input: numberInput(`load-${index}`, exercise.load_kg, 999, { step: 0.5, decimal: true }) }));
  }
  return fields;
}

// The session as the API takes it, from the form's values.
function sessionOf(form, { slot, planId, exercises }) {
  const data = new FormData(form);
  const number = (name) => (data.get(name) === "" || data.get(name) === null ? null : Number(data.get(name)));
  return {
    id: clientId(),
    training_plan_id: planId,
    slot_id: slot ? slot.id : null,
    performed_at: new Date().toISOString(),
    pain_before: number("pain_before"),
    pain_after: number("pain_after"),
    effort: number("effort"),
    note: String(data.get("note") || ""),
    exercises: exercises.map((exercise, index) => {
      const minutes = number(`duration-${index}`);
      return {
        exercise_id: exercise.exercise_id,
        sets: number(`sets-${index}`),
        repetitions: number(`reps-${index}`),
        hold_seconds: number(`hold-${index}`),
        duration_seconds: minutes === null ? null : Math.round(minutes * 60),
        load_kg: number(`load-${index}`),
        is_completed: data.get(`done-${index}`) !== null,
      };
    }),
  };
}

function invalidNumbers(form) {
  return [...form.querySelectorAll("input[type=number]")].filter((input) => !input.checkValidity());
}

// The log form: one exercise at a time as a row of large inputs, then pain, effort and a note. The session
// goes to the outbox (``kind`` and ``path``: the citizen's own batch, or a relative's upload for the citizen).
export function logForm(options, done) {
  const { exercises, title, kind = KINDS.session, path = "/me/session-logs/batch" } = options;
  const form = h("form", { class: "app-form", novalidate: true });
  const rows = exercises.map((exercise, index) => h("fieldset", { class: "app-card app-log-exercise" },
    h("legend", { class: "h4" }, exercise.title),
    h("div", { class: "form-group app-check" },
      h("input", { type: "checkbox", class: "form-checkbox", id: `done-${index}`, name: `done-${index}`, checked: true }),
      h("label", { for: `done-${index}` }, t("exercise_done"))),
    h("div", { class: "app-inline-fields" }, dosageFields(exercise, index))));
  const errorBox = h("div", { class: "app-form-error" });
  replace(form,
    h("h2", { class: "h3" }, title),
    rows,
    scale({ name: "pain_before", legend: t("pain_before"), hint: t("pain_hint"), low: t("pain_low"), high: t("pain_high") }),
    scale({ name: "pain_after", legend: t("pain_after"), hint: t("pain_hint"), low: t("pain_low"), high: t("pain_high") }),
    scale({ name: "effort", legend: t("effort"), hint: t("effort_hint"), low: t("effort_low"), high: t("effort_high") }),
    field({ id: "note", label: t("note"), hint: t("note_hint"), input: h("textarea", { class: "form-input", name: "note", rows: 3, maxlength: 2000 }) }),
    errorBox,
    h("button", { type: "submit", class: "button button-primary app-wide" }, t("save_training")),
    h("button", { type: "button", class: "button button-secondary app-wide", onclick: () => done(null) }, t("cancel")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const invalid = invalidNumbers(form);
    if (invalid.length) {
      errorBox.replaceChildren(alert("error", t("check_numbers")));
      invalid[0].focus();
      return;
    }
    const log = sessionOf(form, options);
    const when = new Date(log.performed_at).toLocaleString(language() === "en" ? "en-GB" : "da-DK", { day: "numeric", month: "long" });
    await enqueue({ kind, id: log.id, path, body: log, label: `${title} (${when})` });
    done(log);
  });
  return form;
}

// The plans an extra session can be logged against.
const ACTIVE_PLANS = "/me/training-plans?status=active";

// What I dag needs to open and log without a connection on the days given (kept once a day by main.js,
// through the service worker): each day's list and the active plans; answers the exercises' drawings in
// the sizes the screens show them (I dag's and Min plan's), for the caller to keep.
export async function keepForOffline(days) {
  const pictures = new Set();
  for (const day of days) {
    const answer = await api(`/me/today?date=${day}`);
    answer.slots.forEach((slot) => slot.exercises.forEach((exercise) => exercise.images.slice(0, 2).forEach((image) => {
      pictures.add(image.urls.medium);
      pictures.add(image.urls.thumbnail);
    })));
  }
  await api(ACTIVE_PLANS);
  return pictures;
}

async function adHocChoices() {
  const plans = await api(ACTIVE_PLANS);
  return plans.items.filter((plan) => plan.current_version).map((plan) => ({
    planId: plan.id,
    title: plan.title,
    exercises: plan.current_version.exercises.map((exercise) => ({
      exercise_id: exercise.exercise_id,
      title: exercise.exercise.title,
      sets: exercise.sets,
      repetitions: exercise.repetitions,
      hold_seconds: exercise.hold_seconds,
      duration_seconds: exercise.duration_seconds,
      load_kg: exercise.load_kg,
    })),
  }));
}

function whenNext(iso) {
  const at = new Date(iso);
  const sameDay = at.toDateString() === new Date().toDateString();
  return sameDay ? formatTime(iso, language()) : formatDateTime(iso, language());
}

// Today is drawn at once from the last answer this device kept (the service worker's copy), then from
// the server's answer when it comes, if that differs and the citizen has not moved on meanwhile.
// ``snapshot: false`` waits for the server (after a log, whose result the list must show).
// This day in the plan's time zone (the API's days are the citizen's).
function dayIn(timeZone) {
  try {
    return new Intl.DateTimeFormat("en-CA", { timeZone }).format(new Date());
  } catch {
    return isoDay(new Date());
  }
}

// An answer is today's only if it is of this day: a copy kept on an earlier day (no connection) gives way
// to the copy the app kept of this day (it keeps the week ahead, see main.js), or to none.
async function ofThisDay(answer) {
  if (!answer) {
    return answer;
  }
  const day = dayIn(answer.time_zone);
  return answer.date === day ? answer : cachedAnswer(`/me/today?date=${day}`);
}

export async function render(main, { setTitle, isShown = () => true, snapshot = true }) {
  setTitle(t("today"));
  const fresh = api("/me/today").then(ofThisDay);
  fresh.catch(() => null);
  const [kept, queue] = await Promise.all([snapshot ? cachedAnswer("/me/today").then(ofThisDay) : null, waiting()]);
  if (!kept) {
    const answer = await fresh;
    if (!answer) {
      throw new ApiError(0, "network", "No answer of this day is kept.");
    }
    draw(main, answer, queue, setTitle);
    return;
  }
  draw(main, kept, queue, setTitle);
  let today;
  try {
    today = await fresh;
  } catch {
    // Not answered (offline, or refused: a login that ended leads to the login page): the kept list stays.
    return;
  }
  if (today && isShown() && JSON.stringify(today) !== JSON.stringify(kept)) {
    const waitingNow = await waiting();
    const mark = focusMark(main);
    draw(main, today, waitingNow, setTitle);
    restoreFocus(main, mark);
  }
}

function draw(main, today, queue, setTitle) {
  const queued = new Set(queue.filter((item) => !item.problem).map((item) => item.body.slot_id).filter(Boolean));
  const message = h("div", { id: "today-message" });

  const openForm = (options) => {
    const form = logForm(options, async (log) => {
      let text = "";
      let kind = "success";
      if (log) {
        if (isOnline()) {
          try {
            await send();
          } catch {
            // No connection to the server: the session waits in the outbox.
          }
        }
        const result = await stateOf(log.id);
        text = { sent: t("saved_sent"), waiting: t("saved_offline") }[result.state] || problemText(result.code);
        kind = result.state === "refused" ? "error" : "success";
      }
      try {
        await render(main, { setTitle, snapshot: false });
      } catch {
        replace(main, h("h1", { id: "screen-title" }, t("today")), h("div", { id: "today-message" }));
      }
      if (log) {
        document.getElementById("today-message").append(alert(kind, text));
      }
      main.focus();
    });
    replace(main, h("h1", { id: "screen-title" }, t("today")), form);
    form.querySelector("input, textarea")?.focus();
  };

  const slots = h("ul", { class: "nobullet-list app-slots" }, today.slots.map((slot) => slotCard(slot, today.time_zone, queued, (chosen) => openForm({
    slot: chosen, planId: chosen.training_plan_id, exercises: chosen.exercises, title: chosen.plan_title,
  }))));
  const adHoc = h("button", {
    type: "button", class: "button button-secondary app-wide",
    onclick: async () => {
      try {
        const choices = await adHocChoices();
        if (!choices.length) {
          message.replaceChildren(alert("info", t("no_active_plan")));
          return;
        }
        const open = (choice) => openForm({ slot: null, ...choice, title: `${t("extra_training")}: ${choice.title}` });
        if (choices.length === 1) {
          open(choices[0]);
          return;
        }
        // More than one plan in force: the citizen says which the extra training was of.
        message.replaceChildren(h("section", { class: "app-card", "aria-labelledby": "which-plan" },
          h("h2", { class: "h3", id: "which-plan", tabindex: "-1" }, t("which_plan")),
          h("ul", { class: "nobullet-list" }, choices.map((choice) => h("li", {},
            h("button", { type: "button", class: "button button-secondary app-wide", onclick: () => open(choice) }, choice.title))))));
        document.getElementById("which-plan").focus();
      } catch (error) {
        message.replaceChildren(alert("error", problemText(error.code)));
      }
    },
  }, t("log_extra"));
  replace(main,
    h("h1", { id: "screen-title" }, t("today")),
    message,
    today.slots.length ? slots : h("p", { class: "app-lead" }, t("nothing_today")),
    today.next_reminder_at ? h("p", { class: "app-next" }, t("next_reminder", { time: whenNext(today.next_reminder_at) })) : null,
    adHoc);
}
