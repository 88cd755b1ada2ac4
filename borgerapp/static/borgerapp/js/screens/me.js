// Mig: my data export, language, quiet hours and which reminders I get; sign out of this or every device.
import { api, config, csrfToken, problemText, signingOut } from "../api.js";
import { alert, field, h, replace } from "../dom.js";
import { language, setLanguage, t } from "../i18n.js";
import { waiting } from "../outbox.js";
import { forgetEverything } from "../session.js";

// The reminders each role gets, and so may choose between here.
const REMINDERS_OF_ROLE = {
  citizen: ["reminder.training", "reminder.questionnaire"],
  relative: ["reminder.training_relative"],
};

function remindersOf(roles) {
  return (roles || []).flatMap((role) => REMINDERS_OF_ROLE[role] || []);
}

function logoutForm(action, label, pending) {
  const form = h("form", { method: "post", action, class: "app-form" },
    h("input", { type: "hidden", name: "csrfmiddlewaretoken", value: csrfToken() }),
    h("button", { type: "submit", class: "button button-secondary app-wide" }, label));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    // Logging out empties the app's storage, the queue too: say so before anything waiting is lost.
    if (pending && !window.confirm(t("logout_pending", { count: pending }))) {
      return;
    }
    // The shell, the kept answers, the outbox and the choices made on this device go before the server
    // ends the login (its answer asks the browser to do the same: Clear-Site-Data), so the next person
    // on a shared tablet sees nothing of this one and the next opening of the app asks for a login.
    form.querySelector("button").disabled = true;
    signingOut();
    try {
      await forgetEverything();
    } finally {
      form.submit();
    }
  });
  return form;
}

function preferencesForm(preferences, onSaved) {
  const form = h("form", { class: "app-form", novalidate: true });
  const errorBox = h("div");
  const chosen = remindersOf(config.roles);
  const reminders = preferences.kinds.filter((kind) => chosen.includes(kind.kind));
  const quiet = preferences.quiet_hours;
  const quietOn = h("input", { type: "checkbox", class: "form-checkbox", id: "quiet-on", checked: Boolean(quiet) });
  const start = h("input", { type: "time", class: "form-input input-width-s", value: quiet ? quiet.start.slice(0, 5) : "22:00" });
  const end = h("input", { type: "time", class: "form-input input-width-s", value: quiet ? quiet.end.slice(0, 5) : "07:00" });
  replace(form,
    h("fieldset", {},
      h("legend", { class: "h3" }, t("which_reminders")),
      reminders.map((kind) => h("div", { class: "form-group app-check" },
        h("input", { type: "checkbox", class: "form-checkbox", id: `kind-${kind.kind}`, name: kind.kind, checked: !kind.muted }),
        h("label", { for: `kind-${kind.kind}` }, t(kind.kind))))),
    h("fieldset", {},
      h("legend", { class: "h3" }, t("quiet_hours")),
      h("span", { class: "form-hint", id: "quiet-hint" }, t("quiet_hours_hint")),
      h("div", { class: "form-group app-check" }, quietOn, h("label", { for: "quiet-on" }, t("quiet_hours_on"))),
      h("div", { class: "app-inline-fields" },
        field({ id: "quiet-start", label: t("from"), input: start }),
        field({ id: "quiet-end", label: t("to"), input: end }))),
    errorBox,
    h("button", { type: "submit", class: "button button-primary app-wide" }, t("save")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const kinds = preferences.kinds.map((kind) => ({
      kind: kind.kind,
      push: kind.push,
      muted: chosen.includes(kind.kind) ? !form.querySelector(`[name="${kind.kind}"]`).checked : kind.muted,
    }));
    try {
      await api("/me/notification-preferences", {
        method: "PUT",
        body: { kinds, quiet_hours: quietOn.checked ? { start: start.value, end: end.value } : null },
      });
      onSaved();
    } catch (error) {
      errorBox.replaceChildren(alert("error", problemText(error.code)));
    }
  });
  return form;
}

async function download() {
  const data = await api("/me/export");
  const link = h("a", {
    href: URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: "application/json" })),
    download: "mine-data-mestring.json",
  });
  document.body.append(link);
  link.click();
  link.remove();
}

export async function render(main, { setTitle, notice = null }) {
  setTitle(t("me"));
  const [me, preferences, pending] = await Promise.all([api("/me"), api("/me/notification-preferences"), waiting()]);
  const again = async (options) => {
    await render(main, { setTitle, ...options });
    main.focus();
  };
  const languages = h("fieldset", {},
    h("legend", { class: "h3" }, t("language")),
    [["da", "Dansk"], ["en", "English"]].map(([code, name]) => h("div", { class: "form-group app-check" },
      h("input", {
        type: "radio", class: "form-radio", name: "language", id: `language-${code}`, value: code, checked: language() === code,
        onchange: () => setLanguage(code),
      }),
      h("label", { for: `language-${code}`, lang: code }, name))));
  const exportError = h("div");
  replace(main,
    h("h1", { id: "screen-title" }, t("me")),
    notice ? alert("success", notice) : null,
    h("p", { class: "app-lead" }, me.display_name || me.name || ""),
    languages,
    preferencesForm(preferences, () => again({ notice: t("saved") })),
    me.citizen ? [
      h("h2", { class: "h3" }, t("my_data")),
      h("p", {}, t("my_data_hint")),
      exportError,
      h("button", {
        type: "button", class: "button button-secondary app-wide",
        onclick: () => download().catch((error) => exportError.replaceChildren(alert("error", problemText(error.code)))),
      }, t("download_data")),
    ] : null,
    h("h2", { class: "h3" }, t("sign_out")),
    logoutForm(config.logout, t("sign_out_here"), pending.length),
    logoutForm(config.logoutEverywhere, t("sign_out_everywhere"), pending.length));
}
