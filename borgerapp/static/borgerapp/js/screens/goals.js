// Mine mål: my goals in my own words with my progress (GAS −2…+2, drawn and as a table); rate my own
// progress on the goal's scale.
import { api, clientId, problemText } from "../api.js";
import { KINDS, submit } from "../outbox.js";
import { dataTable, lineChart } from "../chart.js";
import { alert, formatDate, h, replace, signed } from "../dom.js";
import { language, t } from "../i18n.js";

const SCALE = ["-2", "-1", "0", "1", "2"];

function goalCard(goal, open) {
  return h("li", { class: "app-card" },
    h("h2", { class: "h3", id: `goal-${goal.id}` }, goal.description),
    h("p", { class: "app-muted" }, goal.area_name),
    goal.latest_gas === null
      ? h("p", {}, t("not_rated_yet"))
      : h("p", {}, t("latest_rating", { score: signed(goal.latest_gas), date: formatDate(goal.latest_rated_on, language()) }),
        h("br"), h("span", { class: "app-own-words" }, goal.gas_outcomes[String(goal.latest_gas)])),
    // Which goal "Se og vurdér" opens, for a screen reader listing the buttons.
    h("button", {
      type: "button", class: "button button-primary app-wide", "aria-describedby": `goal-${goal.id}`, onclick: () => open(goal),
    }, t("see_and_rate")));
}

function ratingForm(goal, onDone) {
  const form = h("form", { class: "app-form", novalidate: true });
  const errorBox = h("div");
  const options = SCALE.map((score) => h("li", { class: "app-choice" },
    h("input", { type: "radio", class: "form-radio", name: "gas_score", id: `gas-${score}`, value: score, required: true }),
    h("label", { for: `gas-${score}` }, h("strong", {}, signed(Number(score))), " ", goal.gas_outcomes[score])));
  replace(form,
    h("fieldset", {},
      h("legend", { class: "h3" }, t("how_far")),
      h("span", { class: "form-hint", id: "gas-hint" }, t("how_far_hint")),
      h("ul", { class: "nobullet-list app-choices", "aria-describedby": "gas-hint" }, options)),
    h("div", { class: "form-group" },
      h("label", { class: "form-label", for: "rating-note" }, t("note")),
      h("textarea", { class: "form-input", id: "rating-note", name: "note", rows: 2, maxlength: 1000 })),
    errorBox,
    h("button", { type: "submit", class: "button button-primary app-wide" }, t("save_rating")));
  const id = clientId();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    if (data.get("gas_score") === null) {
      errorBox.replaceChildren(alert("error", t("choose_one")));
      return;
    }
    const result = await submit({
      kind: KINDS.rating,
      id,
      path: `/me/goals/${goal.id}/ratings`,
      body: { id, gas_score: Number(data.get("gas_score")), note: String(data.get("note") || "") },
      label: `${t("queue_rating")}: ${goal.description}`,
    });
    if (result.state === "sent") {
      onDone();
    } else if (result.state === "waiting") {
      form.replaceChildren(alert("info", t("rating_waiting")));
    } else {
      errorBox.replaceChildren(alert("error", problemText(result.code)));
    }
  });
  return form;
}

const GOALS = "/me/goals?limit=100";
const ratingsOf = (goalId) => `/me/goals/${goalId}/ratings?limit=100`;

// What Mine mål needs to open without a connection (kept once a day by main.js, through the service
// worker): the goals and each one's ratings, asked for as the screen asks for them.
export async function keepForOffline() {
  const goals = await api(GOALS);
  await Promise.all(goals.items.map((goal) => api(ratingsOf(goal.id))));
}

async function renderGoal(main, goal, back, saved = false) {
  const ratings = await api(ratingsOf(goal.id));
  const history = ratings.items.filter((rating) => rating.gas_score !== null)
    .sort((first, second) => first.rated_on.localeCompare(second.rated_on));
  const points = history.map((rating) => ({ value: rating.gas_score, label: formatDate(rating.rated_on, language(), { day: "numeric", month: "short" }) }));
  replace(main,
    h("h1", { id: "screen-title" }, goal.description),
    saved ? alert("success", t("rating_saved")) : null,
    h("p", {}, h("a", { href: "#/maal", class: "app-back", onclick: back }, t("back_to_goals"))),
    history.length ? [
      lineChart({
        id: `goal-${goal.id}`, title: t("progress_chart"), description: t("progress_chart_desc"),
        points, min: -2, max: 2, labelOf: signed,
      }),
      dataTable({
        caption: t("ratings"),
        headers: [t("date"), t("score"), t("rated_by")],
        rows: history.map((rating) => [formatDate(rating.rated_on, language()), signed(rating.gas_score), rating.rated_by_name]),
      }),
    ] : h("p", {}, t("not_rated_yet")),
    ratingForm(goal, async () => {
      const fresh = await api(`/me/goals/${goal.id}`);
      await renderGoal(main, fresh, back, true);
      main.focus();
    }));
}

export async function render(main, { setTitle }) {
  setTitle(t("goals"));
  const goals = await api(GOALS);
  const back = async (event) => {
    event.preventDefault();
    await render(main, { setTitle });
    main.focus();
  };
  replace(main,
    h("h1", { id: "screen-title" }, t("goals")),
    goals.items.length
      ? h("ul", { class: "nobullet-list app-cards" }, goals.items.map((goal) => goalCard(goal, async (chosen) => {
        await renderGoal(main, chosen, back);
        main.focus();
      })))
      : h("p", { class: "app-lead" }, t("no_goals")));
}
