// The portal: Harbor's screens on the same API, with Harbor's browser session (POST /c/login, the sid
// cookie, X-Harbor-CSRF-Token). No outside host, no inline script: the Content-Security-Policy forbids both.
// Every user-controlled string reaches the page through textContent, never as HTML.

let csrfToken = "";

async function call(method, path, { body, form } = {}) {
  const headers = {};
  if (method !== "GET" && method !== "HEAD") headers["X-Harbor-CSRF-Token"] = csrfToken;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (form !== undefined) headers["Content-Type"] = "application/x-www-form-urlencoded";
  const reply = await fetch(path, {
    method, headers, credentials: "same-origin",
    body: form !== undefined ? new URLSearchParams(form) : body !== undefined ? JSON.stringify(body) : undefined,
  });
  csrfToken = reply.headers.get("X-Harbor-CSRF-Token") || csrfToken;
  return reply;
}

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

function show(...nodes) {
  document.getElementById("view").replaceChildren(...nodes);
}

function loginScreen(message = "", principal = "") {
  const form = element("form", { class: "login" },
    element("h1", {}, "Log in"),
    element("label", {}, "Username",
      element("input", { name: "principal", autocomplete: "username", required: "", value: principal })),
    element("label", {}, "Password",
      element("input", { name: "password", type: "password", autocomplete: "current-password", required: "" })),
    element("button", { type: "submit" }, "Log in"),
    element("p", { class: "error", role: "alert" }, message));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const reply = await call("POST", "/c/login", { form: { principal: data.get("principal"), password: data.get("password") } });
    if (reply.ok) start();
    else {
      loginScreen(reply.status === 401 ? "Invalid user name or password." : `Login failed (${reply.status}).`,
        data.get("principal"));
    }
  });
  show(form);
  form.querySelector(principal ? "input[name=password]" : "input").focus();
}

async function projectsScreen() {
  show(element("p", { class: "status" }, "Loading projects…"));
  const reply = await call("GET", "/api/v2.0/projects?page_size=100");
  if (!reply.ok) {
    show(element("p", { class: "error", role: "alert" }, `Projects could not be loaded (${reply.status}).`));
    return;
  }
  const rows = (await reply.json()).map((project) => element("tr", {},
    element("td", {}, project.name),
    element("td", {}, project.metadata && project.metadata.public === "true" ? "Public" : "Private"),
    element("td", {}, project.repo_count),
    element("td", {}, new Date(project.creation_time).toLocaleString())));
  show(element("h1", {}, "Projects"),
    element("table", {}, element("thead", {}, element("tr", {},
      element("th", { scope: "col" }, "Project Name"), element("th", { scope: "col" }, "Access Level"),
      element("th", { scope: "col" }, "Repositories"), element("th", { scope: "col" }, "Creation Time"))),
    element("tbody", {}, ...rows)));
}

async function start() {
  const reply = await call("GET", "/api/v2.0/users/current");
  const logout = document.getElementById("logout");
  if (!reply.ok) {
    document.getElementById("user").textContent = "";
    logout.hidden = true;
    loginScreen();
    return;
  }
  document.getElementById("user").textContent = (await reply.json()).username;
  logout.hidden = false;
  projectsScreen();
}

document.getElementById("logout").addEventListener("click", async () => {
  await call("GET", "/c/log_out");
  start();
});
start();
