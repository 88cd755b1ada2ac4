// Spørgeskemaer: answer the questionnaires that are due. A question with conditions (enable_when) is
// shown only while they hold, and its answer is sent only then — the server checks the same rules.
import { api, clientId, problemText } from "../api.js";
import { KINDS, submit } from "../outbox.js";
import { alert, formatDate, h, replace } from "../dom.js";
import { language, t } from "../i18n.js";

function compare(actual, operator, expected) {
  switch (operator) {
    case "exists": return (actual !== null && actual !== undefined) === Boolean(expected);
    case "=": return actual === expected;
    case "!=": return actual !== null && actual !== undefined && actual !== expected;
    case ">": return typeof actual === "number" && actual > expected;
    case "<": return typeof actual === "number" && actual < expected;
    case ">=": return typeof actual === "number" && actual >= expected;
    case "<=": return typeof actual === "number" && actual <= expected;
    default: return false;
  }
}

export function enabledItems(items, answers) {
  const enabled = new Set();
  for (const item of items) {
    const conditions = item.enable_when || [];
    const results = conditions.map((condition) => enabled.has(condition.question)
      && compare(answers[condition.question], condition.operator, condition.answer));
    if (!conditions.length || (item.enable_behavior === "any" ? results.some(Boolean) : results.every(Boolean))) {
      enabled.add(item.link_id);
    }
  }
  return enabled;
}

function control(item) {
  const name = `q-${item.link_id}`;
  const radios = (choices) => h("ul", { class: "nobullet-list app-choices" }, choices.map(([value, label], index) => h("li", { class: "app-choice" },
    h("input", { type: "radio", class: "form-radio", name, id: `${name}-${index}`, value: JSON.stringify(value) }),
    h("label", { for: `${name}-${index}` }, label))));
  if (item.type === "choice") {
    return radios(item.options.map((option) => [option.code, option.text]));
  }
  if (item.type === "boolean") {
    return radios([[true, t("yes")], [false, t("no")]]);
  }
  if (item.type === "scale") {
    const choices = [];
    for (let value = item.min; value <= item.max; value += 1) {
      const label = value === item.min && item.min_label ? `${value} – ${item.min_label}`
        : value === item.max && item.max_label ? `${value} – ${item.max_label}` : String(value);
      choices.push([value, label]);
    }
    return radios(choices);
  }
  if (item.type === "text") {
    return h("textarea", { class: "form-input", name, id: name, rows: 3, maxlength: 2000 });
  }
  return h("input", {
    class: "form-input input-width-s", type: "number", name, id: name, inputmode: item.type === "decimal" ? "decimal" : "numeric",
    step: item.type === "decimal" ? "any" : 1, min: item.min ?? undefined, max: item.max ?? undefined,
  });
}

function readAnswers(form, items) {
  const answers = {};
  for (const item of items) {
    const name = `q-${item.link_id}`;
    if (["choice", "boolean", "scale"].includes(item.type)) {
      const checked = form.querySelector(`input[name="${name}"]:checked`);
      answers[item.link_id] = checked ? JSON.parse(checked.value) : null;
    } else {
      const value = form.elements[name].value.trim();
      answers[item.link_id] = value === "" ? null : item.type === "text" ? value : Number(value);
    }
  }
  return answers;
}

// The server's refusal: its problem at the top with each field error, and each error beside its question
// (the server names a question as ``answers.<link_id>``).
function showRefusal(groups, errorBox, { code, errors = [] }) {
  for (const group of groups) {
    group.classList.remove("form-error");
    group.querySelector(".form-error-message")?.remove();
  }
  const listed = [];
  for (const error of errors) {
    const group = groups.find((candidate) => `answers.${candidate.dataset.link}` === error.field);
    if (group) {
      const label = group.querySelector("legend, label");
      group.classList.add("form-error");
      label.after(h("span", { class: "form-error-message", id: `error-${group.dataset.link}` }, error.message));
      listed.push(`${label.textContent}: ${error.message}`);
    } else {
      listed.push(error.message);
    }
  }
  errorBox.replaceChildren(h("div", { class: "alert alert-error", role: "alert" },
    h("div", { class: "alert-body" },
      h("p", { class: "alert-text" }, problemText(code)),
      listed.length ? h("ul", { class: "alert-text app-refused-errors" }, listed.map((text) => h("li", {}, text))) : null)));
}

async function renderOne(main, assignment, back) {
  const detail = await api(`/me/questionnaires/${assignment.id}`);
  const form = h("form", { class: "app-form", novalidate: true });
  const errorBox = h("div");
  const groups = detail.items.map((item) => {
    const isGroup = ["choice", "boolean", "scale"].includes(item.type);
    const label = [item.text, item.required ? "" : ` (${t("optional")})`];
    return h(isGroup ? "fieldset" : "div", { class: "form-group app-question", "data-link": item.link_id },
      isGroup ? h("legend", { class: "form-label" }, label) : h("label", { class: "form-label", for: `q-${item.link_id}` }, label),
      control(item));
  });
  const update = () => {
    const enabled = enabledItems(detail.items, readAnswers(form, detail.items));
    groups.forEach((group) => {
      group.hidden = !enabled.has(group.dataset.link);
    });
  };
  replace(form, groups, errorBox, h("button", { type: "submit", class: "button button-primary app-wide" }, t("send_answers")));
  form.addEventListener("change", update);
  const id = clientId();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = readAnswers(form, detail.items);
    const enabled = enabledItems(detail.items, values);
    const missing = detail.items.find((item) => item.required && enabled.has(item.link_id) && values[item.link_id] === null);
    if (missing) {
      errorBox.replaceChildren(alert("error", t("answer_required", { question: missing.text })));
      return;
    }
    const answers = detail.items.filter((item) => enabled.has(item.link_id) && values[item.link_id] !== null)
      .map((item) => ({ link_id: item.link_id, value: values[item.link_id] }));
    const result = await submit({
      kind: KINDS.answer,
      id,
      path: `/me/questionnaires/${assignment.id}/response`,
      body: { id, answers },
      label: `${t("queue_answer")}: ${detail.title}`,
    });
    if (result.state === "refused") {
      showRefusal(groups, errorBox, result);
      return;
    }
    await back(null, result.state === "sent" ? t("answers_sent") : t("answers_waiting"));
  });
  replace(main,
    h("h1", { id: "screen-title" }, detail.title),
    h("p", {}, h("a", { href: "#/spoergeskemaer", onclick: (event) => back(event) }, t("back_to_questionnaires"))),
    form);
  update();
}

export async function render(main, { setTitle, notice = null }) {
  setTitle(t("questionnaires"));
  const due = await api("/me/questionnaires?state=due");
  const back = async (event, text = null) => {
    if (event) {
      event.preventDefault();
    }
    await render(main, { setTitle, notice: text });
    main.focus();
  };
  replace(main,
    h("h1", { id: "screen-title" }, t("questionnaires")),
    notice ? alert("success", notice) : null,
    due.items.length
      ? h("ul", { class: "nobullet-list app-cards" }, due.items.map((assignment) => h("li", { class: "app-card" },
        h("h2", { class: "h3", id: `questionnaire-${assignment.id}` }, assignment.title),
        h("p", {}, assignment.occasion_name, " · ", t("due_on", { date: formatDate(assignment.due_on, language()) })),
        // Which questionnaire "Besvar" opens, for a screen reader listing the buttons.
        h("button", {
          type: "button", class: "button button-primary app-wide", "aria-describedby": `questionnaire-${assignment.id}`,
          onclick: async () => {
            await renderOne(main, assignment, back);
            main.focus();
          },
        }, t("answer")))))
      : h("p", { class: "app-lead" }, t("no_questionnaires")));
}
