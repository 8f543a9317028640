// Audit logs: the system's (/audit-logs, for everyone what they may see) and a project's
// (/projects/{name}/logs), with Harbor's filters (q: operation, resource, resource type, user, time range).

import { get } from "./api.js";
import { h, pager, region, table, time } from "./dom.js";

const OPERATIONS = [["", "All operations"], ["create", "Create"], ["delete", "Delete"], ["pull", "Pull"]];
const TYPES = [["", "All resources"], ["artifact", "Artifact"], ["tag", "Tag"], ["project", "Project"], ["repository", "Repository"]];
const PAGE = 15;

// datetime-local (the browser's time zone) to Harbor's q time, in UTC.
const utc = (local) => new Date(local).toISOString().slice(0, 19).replace("T", " ");

export function logTable(path) {
  const form = h("form", { class: "filters", "aria-label": "Filter logs" },
    h("label", {}, "Operation", h("select", { name: "operation" }, OPERATIONS.map(([v, t]) => h("option", { value: v }, t)))),
    h("label", {}, "Resource type", h("select", { name: "resource_type" }, TYPES.map(([v, t]) => h("option", { value: v }, t)))),
    h("label", {}, "Resource", h("input", { name: "resource", type: "search" })),
    h("label", {}, "User", h("input", { name: "username", type: "search" })),
    h("label", {}, "From", h("input", { name: "from", type: "datetime-local" })),
    h("label", {}, "To", h("input", { name: "to", type: "datetime-local" })),
    h("button", { type: "submit", class: "primary" }, "Search"));
  const position = { page: 1 };
  const query = () => {
    const value = (name) => form.elements[name].value.trim();
    const terms = [];
    if (value("operation")) terms.push(`operation=${value("operation")}`);
    if (value("resource_type")) terms.push(`resource_type=${value("resource_type")}`);
    if (value("resource")) terms.push(`resource=~${value("resource")}`);
    if (value("username")) terms.push(`username=~${value("username")}`);
    if (value("from") || value("to")) {
      terms.push(`op_time=[${value("from") ? utc(value("from")) : "1970-01-01 00:00:00"}~${value("to") ? utc(value("to")) : "9999-12-31 23:59:59"}]`);
    }
    return terms.length ? `&q=${encodeURIComponent(terms.join(","))}` : "";
  };
  const [list, reload] = region("logs", async () => {
    const records = await get(`${path}?page=${position.page}&page_size=${PAGE}${query()}`);
    return [table(["Username", "Resource", "Resource Type", "Operation", "Timestamp"], records.map((r) =>
      [r.username, r.resource, r.resource_type, r.operation, time(r.op_time)]), "No log matches."),
    pager(position, records.total, PAGE, reload)];
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    position.page = 1;
    reload();
  });
  return h("div", {}, form, list);
}

export const logsScreen = () => [h("h1", {}, "Logs"), logTable("/audit-logs")];
