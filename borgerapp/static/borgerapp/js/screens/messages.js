// Beskeder: reminders and messages (the inbox, kept up to date while the app is open), my requests to
// my contact person and their answers; write a new one, with a photo from the camera.
import { api, clientId, config, problemText } from "../api.js";
import { isOnline } from "../connection.js";
import { KINDS, submit } from "../outbox.js";
import { alert, field, formatDateTime, h, replace } from "../dom.js";
import { language, t } from "../i18n.js";

const CATEGORIES = ["help", "plan_change", "assistive_device", "device_fault", "other"];

function notificationItem(notification, onRead) {
  const unread = notification.read_at === null;
  return h("li", { class: `app-card app-notification${unread ? " app-unread" : ""}` },
    h("p", { class: "app-muted" }, formatDateTime(notification.created_at, language()), unread ? [" · ", h("strong", {}, t("unread"))] : null),
    h("p", {}, notification.text),
    unread ? h("button", { type: "button", class: "button button-secondary", onclick: () => onRead(notification) }, t("mark_read")) : null);
}

function requestItem(request, open) {
  return h("li", { class: "app-card" },
    h("h3", { class: "h4" }, request.category_name),
    h("p", {}, request.text),
    h("p", {}, h("strong", { class: `tag ${request.status === "answered" ? "tag-success" : "tag-info"}` }, request.status_name),
      " ", h("span", { class: "app-muted" }, formatDateTime(request.created_at, language()))),
    h("button", { type: "button", class: "button button-secondary", onclick: () => open(request) }, t("open_request")));
}

function writeForm(onSent) {
  const form = h("form", { class: "app-form", novalidate: true });
  const errorBox = h("div");
  const category = h("select", { class: "form-select", name: "category" },
    CATEGORIES.map((value) => h("option", { value }, t(`category_${value}`))));
  const text = h("textarea", { class: "form-input", name: "text", rows: 4, maxlength: 4000, required: true });
  const photo = h("input", { type: "file", class: "form-file-input", name: "photo", accept: "image/jpeg,image/png,image/webp", capture: "environment" });
  replace(form,
    h("h2", { class: "h3" }, t("write_to_contact")),
    field({ id: "request-category", label: t("what_about"), input: category }),
    field({ id: "request-text", label: t("your_message"), hint: t("your_message_hint"), input: text }),
    field({ id: "request-photo", label: t("photo_optional"), hint: `${t("photo_hint")} ${t("photo_online_only")}`, input: photo }),
    errorBox,
    h("button", { type: "submit", class: "button button-primary app-wide" }, t("send")));
  const id = clientId();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!text.value.trim()) {
      errorBox.replaceChildren(alert("error", t("write_something")));
      text.focus();
      return;
    }
    const withPhoto = photo.files.length > 0;
    if (withPhoto && !isOnline()) {
      // A photo is sent only with a connection; the words can wait in the outbox.
      errorBox.replaceChildren(alert("error", t("photo_needs_connection")));
      return;
    }
    const body = { id, category: category.value, text: text.value };
    const result = await submit({ kind: KINDS.request, id, path: "/me/requests", body, label: `${t("queue_request")}: ${category.selectedOptions[0].textContent}` });
    if (result.state === "refused") {
      errorBox.replaceChildren(alert("error", problemText(result.code)));
      return;
    }
    if (result.state === "waiting") {
      onSent(t(withPhoto ? "request_waiting_no_photo" : "request_waiting"));
      return;
    }
    if (withPhoto) {
      try {
        const upload = new FormData();
        upload.append("photo", photo.files[0]);
        await api(`/me/requests/${id}/photo`, { method: "POST", form: upload });
      } catch (error) {
        errorBox.replaceChildren(alert("error", `${t("request_sent_photo_failed")} ${problemText(error.code)}`));
        return;
      }
    }
    onSent(t("request_sent"));
  });
  return form;
}

async function renderRequest(main, request, back) {
  const detail = await api(`/me/requests/${request.id}`);
  const reply = h("form", { class: "app-form", novalidate: true });
  const errorBox = h("div");
  const text = h("textarea", { class: "form-input", rows: 3, maxlength: 4000 });
  replace(reply,
    field({ id: "reply-text", label: t("write_again"), input: text }),
    errorBox,
    h("button", { type: "submit", class: "button button-primary app-wide" }, t("send")));
  reply.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!text.value.trim()) {
      errorBox.replaceChildren(alert("error", t("write_something")));
      return;
    }
    try {
      await api(`/me/requests/${request.id}/messages`, { method: "POST", body: { text: text.value } });
      await renderRequest(main, request, back);
    } catch (error) {
      errorBox.replaceChildren(alert("error", problemText(error.code)));
    }
  });
  replace(main,
    h("h1", { id: "screen-title" }, detail.category_name),
    h("p", {}, h("a", { href: "#/beskeder", onclick: back }, t("back_to_messages"))),
    h("p", {}, h("strong", { class: "tag tag-info" }, detail.status_name)),
    h("p", { class: "app-muted" }, t("answer_by", { time: formatDateTime(detail.respond_by, language()) })),
    h("ol", { class: "nobullet-list app-thread" },
      h("li", { class: "app-card" }, h("p", { class: "app-muted" }, t("you"), " · ", formatDateTime(detail.created_at, language())), h("p", {}, detail.text),
        detail.has_photo ? h("img", { class: "app-photo", src: `/api/v1/me/requests/${detail.id}/photo?size=thumbnail`, alt: t("your_photo") }) : null),
      detail.messages.map((message) => h("li", { class: "app-card" },
        h("p", { class: "app-muted" }, message.author_name, " · ", formatDateTime(message.created_at, language())),
        h("p", {}, message.text)))),
    detail.status === "closed" ? null : reply);
}

export async function render(main, { setTitle, writing = false, notice = null }) {
  setTitle(t("messages"));
  // Requests are the citizen's own; a relative's messages are the inbox only.
  const isCitizen = config.roles.includes("citizen");
  const [inbox, requests] = await Promise.all([
    api("/notifications?limit=30"),
    isCitizen ? api("/me/requests?limit=30") : Promise.resolve(null),
  ]);
  const again = async (options = {}) => {
    await render(main, { setTitle, ...options });
    main.focus();
  };
  const back = async (event) => {
    event.preventDefault();
    await again();
  };
  if (writing) {
    replace(main,
      h("h1", { id: "screen-title" }, t("write_to_contact")),
      h("p", {}, h("a", { href: "#/beskeder", onclick: back }, t("back_to_messages"))),
      writeForm((notice) => again({ notice })));
    return;
  }
  replace(main,
    h("h1", { id: "screen-title" }, t("messages")),
    notice ? alert("success", notice) : null,
    isCitizen ? h("button", { type: "button", class: "button button-primary app-wide", onclick: () => again({ writing: true }) }, t("write_to_contact")) : null,
    h("h2", { class: "h3" }, t("inbox"), inbox.unread_count ? ` (${t("unread_count", { count: inbox.unread_count })})` : ""),
    inbox.items.length
      ? h("ul", { class: "nobullet-list app-cards", id: "inbox" }, inbox.items.map((item) => notificationItem(item, async (chosen) => {
        await api(`/notifications/${chosen.id}/read`, { method: "POST" });
        await again();
      })))
      : h("p", {}, t("no_messages")),
    requests ? h("h2", { class: "h3" }, t("my_requests")) : null,
    requests === null ? null : requests.items.length
      ? h("ul", { class: "nobullet-list app-cards" }, requests.items.map((item) => requestItem(item, async (chosen) => {
        await renderRequest(main, chosen, back);
        main.focus();
      })))
      : h("p", {}, t("no_requests")));
}
