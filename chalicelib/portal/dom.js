// Building the page. Strings always become text nodes (never HTML), so a name, label or description
// typed by a user is shown as typed, whatever it contains.

export function h(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  node.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false)
    .map((c) => (c instanceof Node ? c : document.createTextNode(String(c)))));
  return node;
}

const SVG = "http://www.w3.org/2000/svg";

export function svg(tag, attributes = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children.map((c) => (c instanceof Node ? c : document.createTextNode(String(c)))));
  return node;
}

export const link = (href, ...children) => h("a", { href }, ...children);

export function button(label, onclick, { kind = "", disabled = false, name = "" } = {}) {
  return h("button", { type: "button", class: kind, disabled, "data-action": name || null, onclick }, label);
}

export const loading = (what) => h("p", { class: "status", role: "status" }, `Loading ${what}…`);
export const failed = (what, error) => h("p", { class: "error", role: "alert" }, `${what} could not be loaded: ${error.message}`);

const FOLLOW_MS = 2000;

// A region filled by `load`, with its loading and error states; returns the region and a reload. A reload
// keeps what is shown until the new content is there (no flicker while a scan or a job is followed).
// `load(again)`: again(true) reads the region once more shortly, while it is on screen (a running job).
export function region(what, load) {
  const node = h("div", { class: "region" });
  const again = (running) => running && setTimeout(() => node.isConnected && reload(), FOLLOW_MS);
  const reload = async () => {
    if (!node.childElementCount || node.querySelector("[role=alert]")) node.replaceChildren(loading(what));
    node.setAttribute("aria-busy", "true");
    try {
      node.replaceChildren(...[await load(again)].flat());
    } catch (error) {
      node.replaceChildren(failed(what, error), button("Retry", reload));
    }
    node.removeAttribute("aria-busy");
  };
  reload();
  return [node, reload];
}

// Previous and next over a list of `total` items, `size` a page; `position.page` is the page shown.
export function pager(position, total, size, reload) {
  const pages = Math.max(1, Math.ceil((total || 0) / size));
  const go = (step) => () => {
    position.page += step;
    reload();
  };
  return h("div", { class: "pager" }, h("span", {}, `${total || 0} items · page ${position.page} of ${pages}`),
    button("Previous", go(-1), { disabled: position.page <= 1 }), button("Next", go(1), { disabled: position.page >= pages }));
}

export const facts = (rows) => h("dl", { class: "facts" },
  rows.flatMap(([term, value]) => [h("dt", {}, term), h("dd", {}, String(value ?? ""))]));

export function table(columns, rows, empty = "Nothing here yet.") {
  if (!rows.length) return h("p", { class: "empty" }, empty);
  return h("div", { class: "scroll" }, h("table", {},
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, rows.map((cells) => h("tr", {}, cells.map((c) => h("td", {}, c)))))));
}

// A message after an action: success or the API's error, announced to screen readers.
export function notify(message, isError = false) {
  const box = document.getElementById("notice");
  box.replaceChildren(h("p", { class: isError ? "error" : "ok", role: isError ? "alert" : "status" }, message));
}

// Runs an action from a button: the button is disabled meanwhile, the outcome is shown.
export async function act(what, action, done) {
  try {
    const result = await action();
    notify(what);
    if (done) await done(result);
  } catch (error) {
    notify(error.message, true);
  }
}

// A modal form (the native <dialog>: focus is trapped and Escape closes it). `fields` are
// [name, label, {type, value, options, required}]; `submit` gets the values and may throw to keep it open.
export function dialog(title, fields, submit, { confirm = "OK", intro = "", extra = [], cancel = true } = {}) {
  const error = h("p", { class: "error", role: "alert" });
  const inputs = fields.map(([name, label, options = {}]) => {
    let input;
    if (options.options) {
      input = h("select", { name }, options.options.map(([value, text]) =>
        h("option", { value, selected: String(value) === String(options.value ?? "") }, text)));
    } else if (options.type === "checkbox") {
      input = h("input", { name, type: "checkbox", checked: Boolean(options.value) });
    } else if (options.type === "textarea") {
      input = h("textarea", { name, rows: 3 }, options.value ?? "");
    } else {
      input = h("input", { name, type: options.type || "text", value: options.value ?? "", required: options.required,
        placeholder: options.placeholder || null });
    }
    return h("label", { class: options.type === "checkbox" ? "check" : "" }, label, input);
  });
  const node = h("dialog", { "aria-label": title });
  const form = h("form", { method: "dialog" }, h("h2", {}, title), intro ? h("p", {}, intro) : null, extra, inputs, error,
    h("div", { class: "actions" }, cancel ? button("Cancel", () => node.close()) : null,
      h("button", { type: "submit", class: "primary" }, confirm)));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = {};
    for (const input of form.querySelectorAll("[name]")) values[input.name] = input.type === "checkbox" ? input.checked : input.value;
    try {
      await submit(values);
      node.close();
    } catch (failure) {
      error.textContent = failure.message;
    }
  });
  node.append(form);
  node.addEventListener("close", () => node.remove());
  document.body.append(node);
  node.showModal();
  return node;
}

export const confirmDialog = (title, question, confirmed, confirm = "Delete") =>
  dialog(title, [], confirmed, { confirm, intro: question });

export function tabs(items, active) {
  return h("nav", { class: "tabs", "aria-label": "Sections" }, items.map(([href, label, key]) =>
    h("a", { href, "aria-current": key === active ? "page" : null }, label)));
}

export function size(bytes) {
  if (!bytes && bytes !== 0) return "";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
  return `${value.toFixed(unit ? 2 : 0)} ${units[unit]}`;
}

export function time(text) {
  if (!text || text.startsWith("0001-01-01")) return "";
  return new Date(text).toLocaleString();
}

export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    notify(`Copied: ${text}`);
  } catch {
    notify(`Copy this: ${text}`);
  }
}
