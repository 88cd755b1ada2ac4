// Hvem har set mine data: the access log — who, in which role, what, why and when; newest first.
import { api } from "../api.js";
import { formatDateTime, h, replace } from "../dom.js";
import { language, t } from "../i18n.js";

function entryCard(entry) {
  const row = (label, value) => [h("dt", {}, label), h("dd", {}, value)];
  return h("li", { class: "app-card" },
    h("h2", { class: "h4" }, entry.actor_name, " ", h("span", { class: "app-muted" }, `(${entry.actor_role_name})`)),
    h("dl", { class: "app-facts" },
      row(t("when"), formatDateTime(entry.at, language())),
      row(t("what"), entry.action_name),
      row(t("why"), entry.purpose_name)));
}

export async function render(main, { setTitle }) {
  setTitle(t("access"));
  const log = await api("/me/access-log?limit=100");
  replace(main,
    h("h1", { id: "screen-title" }, t("access")),
    h("p", { class: "app-lead" }, t("access_lead")),
    log.items.length
      ? h("ol", { class: "nobullet-list app-cards", "aria-label": t("access_caption") }, log.items.map(entryCard))
      : h("p", {}, t("access_none")));
}
