// Building the screens from data: elements with attributes and children, text always as text (never HTML).

export function h(tag, attributes = {}, ...children) {
  const svg = ["svg", "g", "path", "line", "polyline", "circle", "rect", "text", "title", "desc"].includes(tag);
  const element = svg ? document.createElementNS("http://www.w3.org/2000/svg", tag) : document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null || value === false) {
      continue;
    }
    if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2), value);
    } else if (name === "class") {
      element.setAttribute("class", value);
    } else if (value === true) {
      element.setAttribute(name, "");
    } else {
      element.setAttribute(name, String(value));
    }
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) {
      continue;
    }
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function replace(element, ...children) {
  element.replaceChildren();
  append(element, children);
}

export function alert(kind, text, role = kind === "error" ? "alert" : "status") {
  return h("div", { class: `alert alert-${kind}`, role },
    h("div", { class: "alert-body" }, h("p", { class: "alert-text" }, text)));
}

export function field({ id, label, hint, input, error }) {
  const hintId = hint ? `${id}-hint` : null;
  const errorId = error ? `${id}-error` : null;
  const described = [hintId, errorId].filter(Boolean).join(" ");
  if (described) {
    input.setAttribute("aria-describedby", described);
  }
  input.id = id;
  return h("div", { class: `form-group${error ? " form-error" : ""}` },
    h("label", { class: "form-label", for: id }, label),
    hint ? h("span", { class: "form-hint", id: hintId }, hint) : null,
    error ? h("span", { class: "form-error-message", id: errorId }, error) : null,
    input);
}

// A 0–10 scale as large radio buttons in one row (pain NRS, Borg CR10): easy to hit with a shaky hand.
export function scale({ name, legend, hint, low, high, value }) {
  const options = [];
  for (let number = 0; number <= 10; number += 1) {
    const id = `${name}-${number}`;
    options.push(h("li", { class: "app-scale-option" },
      h("input", { type: "radio", id, name, value: number, checked: value === number, class: "app-scale-input" }),
      h("label", { for: id, class: "app-scale-label" }, String(number))));
  }
  return h("fieldset", { class: "app-scale", "aria-describedby": hint ? `${name}-hint` : null },
    h("legend", { class: "form-label" }, legend),
    hint ? h("span", { class: "form-hint", id: `${name}-hint` }, hint) : null,
    h("ul", { class: "app-scale-options nobullet-list" }, options),
    h("p", { class: "app-scale-ends", "aria-hidden": "true" }, h("span", {}, low), h("span", {}, high)));
}

// A time of day; in the plan's time zone when given (a slot at 10:00 in Copenhagen is 10:00 wherever
// the phone is).
export function formatTime(iso, language, timeZone = undefined) {
  return new Date(iso).toLocaleTimeString(language === "en" ? "en-GB" : "da-DK", { hour: "2-digit", minute: "2-digit", timeZone });
}

export function formatDate(iso, language, options = { day: "numeric", month: "long", year: "numeric" }) {
  return new Date(iso).toLocaleDateString(language === "en" ? "en-GB" : "da-DK", options);
}

export function formatDateTime(iso, language) {
  return new Date(iso).toLocaleString(language === "en" ? "en-GB" : "da-DK", {
    day: "numeric", month: "long", hour: "2-digit", minute: "2-digit",
  });
}

// A day as the API writes it (YYYY-MM-DD), on this device's calendar.
export function isoDay(date) {
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60000);
  return local.toISOString().slice(0, 10);
}

// A GAS score as said on the scale: −2, −1, 0, +1, +2.
export function signed(value) {
  return value > 0 ? `+${value}` : String(value);
}

// A screen drawn again in place (fresher data, the service worker taking over, the connection back) keeps
// the focus where the user had it: on the new drawing's element with the same id, or else of the same
// kind with the same words. Without it a keyboard or screen-reader user is thrown back to the page's start.
export function focusMark(container) {
  const element = document.activeElement;
  if (!element || element === container || !container.contains(element)) {
    return null;
  }
  return { id: element.id, tag: element.tagName, text: element.textContent.trim() };
}

export function restoreFocus(container, mark) {
  const current = document.activeElement;
  if (!mark || (current && current !== document.body && current.isConnected)) {
    return;
  }
  const same = (mark.id && container.querySelector(`#${CSS.escape(mark.id)}`))
    || [...container.querySelectorAll(mark.tag)].find((element) => element.textContent.trim() === mark.text);
  if (same) {
    same.focus();
  }
}
