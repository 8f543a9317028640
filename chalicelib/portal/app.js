// The portal: Harbor's screens on the same API, with Harbor's browser session (POST /c/login, the sid
// cookie, X-Harbor-CSRF-Token). No outside host, no inline script: the Content-Security-Policy forbids both.
// Every user-controlled string reaches the page as text (dom.js), never as HTML.

import {
  configurationScreen, gcScreen, labelsScreen, logRotationScreen, registriesScreen, replicationsScreen, robotsScreen,
  scanAllScreen, scannersScreen, usersScreen,
} from "./admin.js";
import { call, permissions, SESSION_ENDED } from "./api.js";
import { failed, h, notify } from "./dom.js";
import { openEvents } from "./exports.js";
import { logsScreen } from "./logs.js";
import { projectScreen, projectsScreen } from "./projects.js";
import { artifactScreen, repositoryScreen } from "./repository.js";

let session = null;

const ADMIN_SCREENS = [
  ["/harbor/users", "Users", usersScreen], ["/harbor/robot-accounts", "Robot Accounts", robotsScreen],
  ["/harbor/registries", "Registries", registriesScreen], ["/harbor/replications", "Replications", replicationsScreen],
  ["/harbor/labels", "Labels", labelsScreen],
  ["/harbor/interrogation-services/scanners", "Interrogation Services", scannersScreen],
  ["/harbor/interrogation-services/vulnerability", null, scanAllScreen],
  ["/harbor/clearing-job/gc", "Clean Up", gcScreen], ["/harbor/clearing-job/audit-log-purge", null, logRotationScreen],
  ["/harbor/configs", "Configuration", configurationScreen],
];

// path -> the screen's content (nodes, possibly after loading).
function route(path) {
  const decode = decodeURIComponent;
  let match = path.match(/^\/harbor\/projects\/(\d+)\/repositories\/([^/]+)\/artifacts\/(sha256:[0-9a-f]{64})$/);
  if (match) return () => artifactScreen(match[1], decode(match[2]), match[3]);
  match = path.match(/^\/harbor\/projects\/(\d+)\/repositories\/([^/]+)$/);
  if (match) return () => repositoryScreen(match[1], decode(match[2]));
  match = path.match(/^\/harbor\/projects\/(\d+)(?:\/([\w-]+))?$/);
  if (match) return () => projectScreen(session, match[1], match[2] || "repositories");
  if (path === "/harbor/logs") return logsScreen;
  const admin = ADMIN_SCREENS.find(([at]) => at === path);
  if (admin && session.sysadmin) return () => admin[2](session);
  return () => projectsScreen(session);
}

let generation = 0;

async function render() {
  const mine = ++generation;
  const view = document.getElementById("view");
  notify("");
  markCurrent();
  view.replaceChildren(h("p", { class: "status", role: "status" }, "Loading…"));
  let nodes;
  try {
    nodes = [await route(location.pathname)()].flat();
  } catch (error) {
    if (error.status === 401) return;  // the login screen is on its way (SESSION_ENDED)
    nodes = [h("h1", {}, error.status === 404 ? "Not found" : "Not available"), failed("This page", error)];
  }
  if (mine !== generation) return;  // the user went elsewhere meanwhile
  view.replaceChildren(...nodes);
  const heading = view.querySelector("h1");
  if (heading) {
    heading.tabIndex = -1;
    heading.focus({ preventScroll: true });
  }
}

function navigate(path) {
  if (path !== location.pathname) history.pushState(null, "", path);
  render();
}

function markCurrent() {
  for (const anchor of document.querySelectorAll("#nav a")) {
    const at = anchor.getAttribute("href");
    const current = location.pathname === at || (at === "/harbor/projects" && location.pathname.startsWith("/harbor/projects"))
      || (at.startsWith("/harbor/clearing-job") && location.pathname.startsWith("/harbor/clearing-job"))
      || (at.startsWith("/harbor/interrogation") && location.pathname.startsWith("/harbor/interrogation"));
    if (current) anchor.setAttribute("aria-current", "page");
    else anchor.removeAttribute("aria-current");
  }
}

function navigation() {
  const item = ([href, label]) => h("li", {}, h("a", { href }, label));
  const admin = session.sysadmin ? [h("li", { class: "group" }, "Administration"),
    ...ADMIN_SCREENS.filter(([, label]) => label).map(item)] : [];
  document.getElementById("nav").replaceChildren(h("ul", {}, item(["/harbor/projects", "Projects"]), item(["/harbor/logs", "Logs"]), ...admin));
}

// A click on a link inside the portal changes the screen without loading the page again.
document.addEventListener("click", (event) => {
  const anchor = event.target.closest("a[href^='/harbor']");
  if (!anchor || anchor.target || anchor.hasAttribute("download") || event.button !== 0
    || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  navigate(anchor.getAttribute("href"));
});
window.addEventListener("popstate", render);
window.addEventListener(SESSION_ENDED, () => {
  if (!session) return;  // several calls may learn it at once
  session = null;
  start();
});

function loginScreen(message = "", principal = "") {
  const form = h("form", { class: "login" },
    h("h1", {}, "Log in"),
    h("label", {}, "Username", h("input", { name: "principal", autocomplete: "username", required: true, value: principal })),
    h("label", {}, "Password", h("input", { name: "password", type: "password", autocomplete: "current-password", required: true })),
    h("button", { type: "submit", class: "primary" }, "Log in"),
    h("p", { class: "error", role: "alert" }, message));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const reply = await call("POST", "/c/login", { form: { principal: data.get("principal"), password: data.get("password") } });
    if (reply.ok) start();
    else loginScreen(reply.status === 401 ? "Invalid user name or password." : `Login failed (${reply.status}).`, data.get("principal"));
  });
  document.getElementById("view").replaceChildren(form);
  form.querySelector(principal ? "input[name=password]" : "input").focus();
}

async function start() {
  const chrome = ["logout", "events-button"].map((id) => document.getElementById(id));
  const reply = await call("GET", "/api/v2.0/users/current");
  if (!reply.ok) {
    session = null;
    document.getElementById("user").textContent = "";
    document.getElementById("nav").replaceChildren();
    for (const node of chrome) node.hidden = true;
    loginScreen();
    return;
  }
  const user = await reply.json();
  session = { username: user.username, sysadmin: user.sysadmin_flag, system: await permissions() };
  document.getElementById("user").textContent = user.username;
  for (const node of chrome) node.hidden = false;
  navigation();
  if (!location.pathname.startsWith("/harbor/")) history.replaceState(null, "", "/harbor/projects");
  render();
}

document.getElementById("logout").addEventListener("click", async () => {
  await call("GET", "/c/log_out");
  const events = document.getElementById("events");
  if (events) events.hidden = true;
  start();
});
document.getElementById("events-button").addEventListener("click", openEvents);
start();
