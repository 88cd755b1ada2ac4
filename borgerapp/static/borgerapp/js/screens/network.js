// Mit netværk: invite a relative or volunteer (a code to share, what they may see or do, until when),
// change what a grant allows or when it ends, or revoke it at once.
import { api, problemText } from "../api.js";
import { alert, field, formatDate, h, replace } from "../dom.js";
import { language, t } from "../i18n.js";

const SCOPES = ["view_progress", "receive_reminders", "log_sessions", "send_encouragement"];

function scopeBoxes(prefix, chosen) {
  return h("fieldset", {},
    h("legend", { class: "form-label" }, t("may")),
    SCOPES.map((scope) => h("div", { class: "form-group app-check" },
      h("input", { type: "checkbox", class: "form-checkbox", id: `${prefix}-${scope}`, name: scope, checked: chosen.includes(scope) }),
      h("label", { for: `${prefix}-${scope}` }, t(`scope_${scope}`)))));
}

function chosenScopes(form) {
  return SCOPES.filter((scope) => form.querySelector(`[name="${scope}"]`).checked);
}

function endOfDay(value) {
  return value ? new Date(`${value}T23:59:00`).toISOString() : null;
}

function inviteForm(onCreated) {
  const form = h("form", { class: "app-form", novalidate: true });
  const errorBox = h("div");
  const label = h("input", { class: "form-input", name: "label", maxlength: 100 });
  const kind = h("select", { class: "form-select", name: "kind" },
    h("option", { value: "relative" }, t("kind_relative")), h("option", { value: "volunteer" }, t("kind_volunteer")));
  const until = h("input", { class: "form-input input-width-m", type: "date", name: "until" });
  replace(form,
    h("h2", { class: "h3" }, t("invite")),
    field({ id: "invite-label", label: t("invite_who"), hint: t("invite_who_hint"), input: label }),
    field({ id: "invite-kind", label: t("invite_kind"), input: kind }),
    scopeBoxes("invite", ["view_progress"]),
    field({ id: "invite-until", label: t("until"), hint: t("until_hint"), input: until }),
    errorBox,
    h("button", { type: "submit", class: "button button-primary app-wide" }, t("make_code")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!label.value.trim()) {
      errorBox.replaceChildren(alert("error", t("invite_who_missing")));
      return;
    }
    try {
      const invitation = await api("/me/network/invitations", {
        method: "POST",
        body: { label: label.value.trim(), kind: kind.value, scopes: chosenScopes(form), grant_valid_until: endOfDay(until.value) },
      });
      onCreated(invitation);
    } catch (error) {
      errorBox.replaceChildren(alert("error", problemText(error.code)));
    }
  });
  return form;
}

function grantCard(grant, again) {
  const form = h("form", { class: "app-form", novalidate: true });
  const errorBox = h("div");
  const until = h("input", { class: "form-input input-width-m", type: "date", value: grant.valid_until ? grant.valid_until.slice(0, 10) : "" });
  replace(form,
    scopeBoxes(`grant-${grant.id}`, grant.scopes),
    field({ id: `grant-${grant.id}-until`, label: t("until"), hint: t("until_hint"), input: until }),
    errorBox,
    h("button", { type: "submit", class: "button button-secondary app-wide" }, t("save_changes")),
    h("button", {
      type: "button", class: "button button-secondary app-wide app-danger",
      onclick: async () => {
        if (!window.confirm(t("revoke_confirm", { name: grant.relative_name }))) {
          return;
        }
        try {
          await api(`/me/network/grants/${grant.id}`, { method: "DELETE" });
          await again({ notice: t("revoked") });
        } catch (error) {
          errorBox.replaceChildren(alert("error", problemText(error.code)));
        }
      },
    }, t("revoke")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = until.value ? { scopes: chosenScopes(form), valid_until: endOfDay(until.value) } : { scopes: chosenScopes(form), clear_valid_until: true };
    try {
      await api(`/me/network/grants/${grant.id}`, { method: "PATCH", body });
      await again({ notice: t("saved") });
    } catch (error) {
      errorBox.replaceChildren(alert("error", problemText(error.code)));
    }
  });
  return h("li", { class: "app-card" },
    h("h3", { class: "h4" }, grant.relative_name, grant.label ? ` (${grant.label})` : ""),
    h("p", { class: "app-muted" }, grant.valid_until ? t("until_date", { date: formatDate(grant.valid_until, language()) }) : t("no_end")),
    form);
}

export async function render(main, { setTitle, notice = null, code = null }) {
  setTitle(t("network"));
  const network = await api("/me/network");
  const again = async (options = {}) => {
    await render(main, { setTitle, ...options });
    main.focus();
  };
  const grants = network.grants.filter((grant) => grant.is_in_force);
  const invitations = network.invitations.filter((invitation) => !invitation.accepted_at && !invitation.withdrawn_at);
  replace(main,
    h("h1", { id: "screen-title" }, t("network")),
    notice ? alert("success", notice) : null,
    code ? h("div", { class: "app-card app-code", role: "status" },
      h("p", {}, t("code_made", { label: code.label })),
      h("p", { class: "app-code-value" }, code.code),
      h("p", {}, t("code_until", { date: formatDate(code.expires_at, language()) }))) : null,
    h("h2", { class: "h3" }, t("has_access")),
    grants.length ? h("ul", { class: "nobullet-list app-cards" }, grants.map((grant) => grantCard(grant, again))) : h("p", {}, t("nobody_has_access")),
    invitations.length ? [
      h("h2", { class: "h3" }, t("invitations")),
      h("ul", { class: "nobullet-list app-cards" }, invitations.map((invitation) => h("li", { class: "app-card" },
        h("p", {}, invitation.label, " · ", t("code_until", { date: formatDate(invitation.expires_at, language()) })),
        h("button", {
          type: "button", class: "button button-secondary",
          onclick: async () => {
            await api(`/me/network/invitations/${invitation.id}`, { method: "DELETE" });
            await again({ notice: t("withdrawn") });
          },
        }, t("withdraw"))))),
    ] : null,
    inviteForm((invitation) => again({ code: invitation })));
}
