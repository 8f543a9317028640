// CVE export (Harbor 2.6): choose repositories, tags and labels of a project, export, follow the job in
// the events panel and download the CSV once. The API deletes the file when it is downloaded, and lists
// the execution no more; this page remembers what it downloaded so that the entry can say so.

import { api, get, shortName } from "./api.js";
import { act, button, h, notify, region, time } from "./dom.js";

const SCAN_TYPE = "application/vnd.security.vulnerability.report; version=1.1";
const DOWNLOADED = "harbor.exports.downloaded";

function downloaded() {
  try {
    return JSON.parse(sessionStorage.getItem(DOWNLOADED) || "[]");
  } catch {
    return [];
  }
}

function rememberDownload(execution) {
  const kept = downloaded().filter((e) => e.id !== execution.id);
  sessionStorage.setItem(DOWNLOADED, JSON.stringify([{ id: execution.id, job_name: execution.job_name }, ...kept].slice(0, 20)));
}

export async function exportTab({ project }) {
  const [repositories, labels] = await Promise.all([
    get(`/projects/${encodeURIComponent(project.name)}/repositories?page_size=100`),
    get(`/labels?scope=p&project_id=${project.project_id}&page_size=100`),
  ]);
  const choices = (name, items) => items.length
    ? h("div", { class: "choices" }, items.map(([value, text]) =>
      h("label", { class: "check" }, h("input", { type: "checkbox", name, value }), text)))
    : h("p", { class: "empty" }, "None in this project.");
  const form = h("form", { class: "config", "aria-label": "Export CVEs" },
    h("fieldset", {}, h("legend", {}, "Repositories (none chosen: all)"),
      choices("repository", repositories.map((r) => [shortName(r.name, project.name), r.name]))),
    h("label", {}, "Tags (a pattern such as v1.*, empty: all)", h("input", { name: "tags", placeholder: "**" })),
    h("fieldset", {}, h("legend", {}, "Labels (none chosen: any)"), choices("label", labels.map((l) => [l.id, l.name]))),
    h("label", {}, "CVE ids (comma separated, empty: all)", h("input", { name: "cves", placeholder: "CVE-2021-44228" })),
    h("button", { type: "submit", class: "primary" }, "Export CVEs"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const checked = (name) => [...form.querySelectorAll(`input[name=${name}]:checked`)].map((input) => input.value);
    const chosen = checked("repository");
    const body = {
      job_name: `${project.name}-${new Date().toISOString()}`, projects: [project.project_id],
      repositories: chosen.length > 1 ? `{${chosen.join(",")}}` : chosen[0] || "",
      tags: form.elements.tags.value.trim(), labels: checked("label").map(Number), cveIds: form.elements.cves.value.replace(/\s+/g, ""),
    };
    act("Export started: follow it in Events.", () => api("POST", "/export/cve", { body, headers: { "X-Scan-Data-Type": SCAN_TYPE } }),
      () => openEvents());
  });
  return form;
}

// The events panel: the caller's export jobs, newest first, refreshed while one is running.
let panel = null;

export function openEvents() {
  if (!panel) {
    panel = h("aside", { id: "events", class: "events", "aria-label": "Events" });
    document.body.append(panel);
  }
  panel.hidden = false;
  const [list, reload] = region("events", async (again) => {
    const { items } = await get("/export/cve/executions");
    again(!panel.hidden && items.some((e) => e.status === "Running"));
    const gone = downloaded();
    const taken = new Set(gone.map((e) => e.id));
    return [
      ...items.filter((e) => !taken.has(e.id)).map((execution) => h("div", { class: "event", "data-execution": execution.id, "data-status": execution.status },
        h("strong", {}, "CVE export"), h("span", {}, execution.job_name || `#${execution.id}`),
        h("span", { class: "event-status" }, execution.status), h("span", { class: "muted" }, time(execution.start_time)),
        execution.status_text ? h("span", { class: "muted" }, execution.status_text) : "",
        execution.file_present ? h("a", { href: `/api/v2.0/export/cve/download/${execution.id}`, download: "", class: "download",
          onclick: () => {
            rememberDownload(execution);
            setTimeout(reload);  // after the click has started the download
          } }, "Download CSV") : "")),
      ...gone.map((execution) => h("div", { class: "event", "data-execution": execution.id, "data-status": "Downloaded" },
        h("strong", {}, "CVE export"), h("span", {}, execution.job_name || `#${execution.id}`),
        h("span", { class: "event-status" }, "Downloaded: the file is gone from the registry."))),
      items.length || gone.length ? "" : h("p", { class: "empty" }, "No export yet."),
    ];
  });
  panel.replaceChildren(h("div", { class: "events-head" }, h("h2", {}, "Events"),
    button("Refresh", reload, { name: "refresh-events" }), button("Close", () => { panel.hidden = true; }, { name: "close-events" })), list);
  notify("");
}
