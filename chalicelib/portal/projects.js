// The project list and a project's tabs (summary, repositories, members, labels, robot accounts,
// scanner, logs, configuration, CVE export). Each action is offered only when the caller's permissions
// (GET /users/current/permissions) allow it; the API checks each call again.

import { api, get, permissions, repoPath, shortName } from "./api.js";
import { countsOf, overviewOf, SEVERITIES, barChart, severityChart } from "./charts.js";
import { act, button, confirmDialog, copyText, dialog, facts, h, link, region, table, tabs, time } from "./dom.js";
import { exportTab } from "./exports.js";
import { logTable } from "./logs.js";

export const ROLES = [[1, "Project Admin"], [4, "Maintainer"], [2, "Developer"], [3, "Guest"], [5, "Limited Guest"]];
const roleName = (id) => (ROLES.find(([role]) => role === id) || [0, "No role"])[1];

export function projectsScreen(session) {
  const search = h("input", { type: "search", name: "project-search", placeholder: "Filter by name", "aria-label": "Filter projects by name" });
  const [list, reload] = region("projects", async () => {
    const query = search.value.trim() ? `&q=${encodeURIComponent(`name=~${search.value.trim()}`)}` : "";
    const found = await get(`/projects?page_size=100&with_detail=true${query}`);
    return table(["Project Name", "Access Level", "Role", "Type", "Repositories", "Creation Time", ""], found.map((project) => [
      link(`/harbor/projects/${project.project_id}/repositories`, project.name),
      project.metadata && project.metadata.public === "true" ? "Public" : "Private",
      session.sysadmin && !project.current_user_role_id ? "System Admin" : roleName(project.current_user_role_id),
      project.registry_id ? "Proxy Cache" : "Project",
      String(project.repo_count),
      time(project.creation_time),
      session.sysadmin || project.current_user_role_id === 1
        ? button("Delete", () => confirmDialog("Delete project", `Delete the project ${project.name}?`,
          () => act(`Project ${project.name} deleted.`, () => api("DELETE", `/projects/${project.project_id}`), reload)),
        { kind: "danger", name: "delete-project" }) : "",
    ]), "No project matches.");
  });
  search.addEventListener("input", () => reload());
  const create = session.system.has("project:create") ? button("New Project", () => dialog("New Project", [
    ["project_name", "Project name", { required: true }],
    ["public", "Public (anyone may pull)", { type: "checkbox" }],
  ], async (values) => {
    await api("POST", "/projects", { body: { project_name: values.project_name, metadata: { public: String(values.public) } } });
    reload();
  }, { confirm: "OK" }), { kind: "primary", name: "new-project" }) : "";
  return [h("h1", {}, "Projects"), h("div", { class: "toolbar" }, create, search), list];
}

const TABS = [["summary", "Summary"], ["repositories", "Repositories"], ["members", "Members"], ["labels", "Labels"],
  ["robot-account", "Robot Accounts"], ["scanner", "Scanner"], ["logs", "Logs"], ["configs", "Configuration"],
  ["export-cve", "CVE Export"]];
const NEEDS = { members: "member:list", "robot-account": "robot:list", logs: "log:list", configs: "metadata:list",
  labels: "label:list", "export-cve": "export-cve:create" };

export async function projectScreen(session, projectId, tab) {
  const [project, held] = await Promise.all([get(`/projects/${projectId}`), permissions(`/project/${projectId}`)]);
  const context = { session, project, held, can: (permission) => held.has(permission) };
  const shown = TABS.filter(([key]) => !NEEDS[key] || context.can(NEEDS[key]));
  const body = {
    summary: summaryTab, repositories: repositoriesTab, members: membersTab, labels: labelsTab,
    "robot-account": robotsTab, scanner: scannerTab, logs: (c) => logTable(`/projects/${encodeURIComponent(c.project.name)}/logs`),
    configs: configurationTab, "export-cve": exportTab,
  }[tab] || repositoriesTab;
  return [
    h("p", { class: "crumbs" }, link("/harbor/projects", "Projects")),
    h("h1", {}, project.name, h("span", { class: "badge" }, project.metadata.public === "true" ? "Public" : "Private"),
      project.registry_id ? h("span", { class: "badge" }, "Proxy Cache") : ""),
    tabs(shown.map(([key, label]) => [`/harbor/projects/${projectId}/${key}`, label, key]), tab),
    await body(context),
  ];
}

function summaryTab({ project }) {
  const [details] = region("the summary", async () => {
    const summary = await get(`/projects/${project.project_id}/summary`);
    const rows = [["Access level", project.metadata.public === "true" ? "Public" : "Private"],
      ["Repositories", summary.repo_count], ["Owner", project.owner_name], ["Created", time(project.creation_time)]];
    if ("project_admin_count" in summary) {
      rows.push(["Members", ROLES.map(([id, name]) => `${summary[{ 1: "project_admin_count", 4: "maintainer_count",
        2: "developer_count", 3: "guest_count", 5: "limited_guest_count" }[id]]} ${name}`).join(", ")]);
    }
    return facts(rows);
  });
  const [chart] = region("the vulnerability summary", () => vulnerabilitySummary(project));
  return h("div", { class: "summary" }, details, h("h2", {}, "Vulnerabilities"), chart);
}

// Counts by severity over the project's scanned artifacts and the most affected images, from the
// artifact lists' scan overviews (the newest 100 artifacts of the first 100 repositories).
async function vulnerabilitySummary(project) {
  const repositories = await get(`/projects/${encodeURIComponent(project.name)}/repositories?page_size=100`);
  const totals = {};
  const images = [];
  let scanned = 0;
  let artifacts = 0;
  await Promise.all(repositories.map(async (repository) => {
    const name = shortName(repository.name, project.name);
    const found = await get(`/projects/${encodeURIComponent(project.name)}/repositories/${repoPath(name)}/artifacts?page_size=100&with_scan_overview=true&with_tag=true`);
    for (const artifact of found) {
      artifacts += 1;
      const overview = overviewOf(artifact);
      if (!overview || overview.scan_status !== "Success") continue;
      scanned += 1;
      const counts = countsOf(overview);
      for (const severity of SEVERITIES) totals[severity] = (totals[severity] || 0) + (counts[severity] || 0);
      const tag = (artifact.tags || [])[0];
      images.push([`${name}${tag ? `:${tag.name}` : `@${artifact.digest.slice(7, 19)}`}`,
        (counts.Critical || 0) * 1e6 + (counts.High || 0) * 1e3 + (overview.summary.total || 0), overview.summary.total || 0]);
    }
  }));
  if (!scanned) return h("p", { class: "empty" }, `None of the ${artifacts} artifacts has been scanned yet.`);
  const worst = images.sort((a, b) => b[1] - a[1]).slice(0, 5).map(([label, , total]) => [label, total, "#d93025"]);
  return h("div", { class: "charts" },
    h("p", {}, `${scanned} of ${artifacts} artifacts scanned.`),
    severityChart("Vulnerabilities by severity", totals),
    barChart("Most affected images (vulnerabilities)", worst));
}

function repositoriesTab({ project, can }) {
  const search = h("input", { type: "search", placeholder: "Filter by name", "aria-label": "Filter repositories by name" });
  const [list, reload] = region("repositories", async () => {
    const query = search.value.trim() ? `&q=${encodeURIComponent(`name=~${search.value.trim()}`)}` : "";
    const found = await get(`/projects/${encodeURIComponent(project.name)}/repositories?page_size=100${query}`);
    return table(["Name", "Artifacts", "Pulls", "Last Modified", ""], found.map((repository) => {
      const name = shortName(repository.name, project.name);
      return [
        link(`/harbor/projects/${project.project_id}/repositories/${encodeURIComponent(name)}`, repository.name),
        String(repository.artifact_count), String(repository.pull_count), time(repository.update_time),
        can("repository:delete") ? button("Delete", () => confirmDialog("Delete repository",
          `Delete ${repository.name} and all its artifacts?`, () => act(`${repository.name} deleted.`,
            () => api("DELETE", `/projects/${encodeURIComponent(project.name)}/repositories/${repoPath(name)}`), reload)),
        { kind: "danger", name: "delete-repository" }) : "",
      ];
    }), "No repository yet: push an image to create one.");
  });
  search.addEventListener("input", () => reload());
  const host = location.host;
  return h("div", {}, h("div", { class: "toolbar" }, search,
    h("code", { class: "hint" }, `docker push ${host}/${project.name}/REPOSITORY[:TAG]`)), list);
}

function membersTab({ project, can }) {
  const base = `/projects/${project.project_id}/members`;
  const [list, reload] = region("members", async () => {
    const members = await get(`${base}?page_size=100`);
    return table(["Name", "Member Type", "Role", ""], members.map((member) => {
      const role = can("member:update") ? h("select", { "aria-label": `Role of ${member.entity_name}`, name: "role",
        onchange: (event) => act(`${member.entity_name} is now ${roleName(Number(event.target.value))}.`,
          () => api("PUT", `${base}/${member.id}`, { body: { role_id: Number(event.target.value) } }), reload) },
      ROLES.map(([id, name]) => h("option", { value: id, selected: id === member.role_id }, name))) : roleName(member.role_id);
      return [member.entity_name, member.entity_type === "u" ? "User" : "Group", role,
        can("member:delete") ? button("Remove", () => confirmDialog("Remove member", `Remove ${member.entity_name} from ${project.name}?`,
          () => act(`${member.entity_name} removed.`, () => api("DELETE", `${base}/${member.id}`), reload), "Remove"),
        { kind: "danger", name: "remove-member" }) : ""];
    }));
  });
  const add = can("member:create") ? button("+ User", () => dialog("New Member", [
    ["username", "Username", { required: true }],
    ["role_id", "Role", { options: ROLES, value: 2 }],
  ], async (values) => {
    await api("POST", base, { body: { role_id: Number(values.role_id), member_user: { username: values.username } } });
    reload();
  }), { kind: "primary", name: "add-member" }) : "";
  return h("div", {}, h("div", { class: "toolbar" }, add), list);
}

export function labelEditor(scope, projectId, can, what) {
  const query = scope === "p" ? `scope=p&project_id=${projectId}` : "scope=g";
  const form = (label = {}) => [["name", "Label name", { required: true, value: label.name }],
    ["color", "Color", { type: "color", value: label.color || "#1b6ac9" }],
    ["description", "Description", { value: label.description }]];
  const [list, reload] = region("labels", async () => {
    const labels = await get(`/labels?${query}&page_size=100`);
    return table(["Label", "Description", "Created", ""], labels.map((label) => [
      labelChip(label), label.description || "", time(label.creation_time),
      h("span", { class: "row-actions" },
        can("label:update") ? button("Edit", () => dialog("Edit Label", form(label), async (values) => {
          await api("PUT", `/labels/${label.id}`, { body: { ...values, scope, project_id: projectId } });
          reload();
        }), { name: "edit-label" }) : "",
        can("label:delete") ? button("Delete", () => confirmDialog("Delete label", `Delete the label ${label.name}?`,
          () => act(`Label ${label.name} deleted.`, () => api("DELETE", `/labels/${label.id}`), reload)),
        { kind: "danger", name: "delete-label" }) : ""),
    ]), `No ${what} label yet.`);
  });
  const create = can("label:create") ? button("New Label", () => dialog("New Label", form(), async (values) => {
    await api("POST", "/labels", { body: { ...values, scope, project_id: projectId } });
    reload();
  }), { kind: "primary", name: "new-label" }) : "";
  return h("div", {}, h("div", { class: "toolbar" }, create), list);
}

export const labelChip = (label) => h("span", { class: "label", title: label.description || label.name }, label.name);

const labelsTab = ({ project, can }) => labelEditor("p", project.project_id, can, "project");

export function robotTable(query, can, createFields, createBody) {
  const [list, reload] = region("robot accounts", async () => {
    const robots = await get(`/robots?page_size=100&q=${encodeURIComponent(query)}`);
    return table(["Name", "Status", "Permissions", "Expires", "Description", ""], robots.map((robot) => [
      robot.name, robot.disable ? "Disabled" : "Enabled",
      robot.permissions.map((p) => `${p.namespace}: ${p.access.map((a) => `${a.action} ${a.resource}`).join(", ")}`).join("; "),
      robot.expires_at === -1 ? "Never" : new Date(robot.expires_at * 1000).toLocaleString(), robot.description || "",
      can("robot:delete") ? button("Delete", () => confirmDialog("Delete robot account", `Delete ${robot.name}?`,
        () => act(`${robot.name} deleted.`, () => api("DELETE", `/robots/${robot.id}`), reload)),
      { kind: "danger", name: "delete-robot" }) : "",
    ]), "No robot account yet.");
  });
  const create = can("robot:create") ? button("New Robot Account", () => dialog("New Robot Account", createFields,
    async (values) => {
      const made = await api("POST", "/robots", { body: createBody(values) });
      reload();
      secretDialog(made.name, made.secret);
    }), { kind: "primary", name: "new-robot" }) : "";
  return h("div", {}, h("div", { class: "toolbar" }, create), list);
}

// The secret is in this answer only: it is shown once, with a way to copy it.
function secretDialog(name, secret) {
  const field = h("input", { readonly: true, value: secret, name: "robot-secret", "aria-label": "Secret" });
  dialog(`Created ${name}`, [], async () => {}, { confirm: "Done", cancel: false,
    intro: "Copy the secret now: it will not be shown again.",
    extra: [h("p", { "data-field": "robot-name" }, name), field, button("Copy secret", () => copyText(secret), { name: "copy-secret" })] });
}

const ACCESS = [["pull", "repository"], ["push", "repository"], ["delete", "artifact"]];

function robotsTab({ project, can }) {
  const fields = [["name", "Name", { required: true }], ["description", "Description"],
    ["duration", "Expires after (days, -1 never)", { type: "number", value: 30 }],
    ["pull", "Pull", { type: "checkbox", value: true }], ["push", "Push", { type: "checkbox" }],
    ["delete", "Delete artifacts", { type: "checkbox" }]];
  return robotTable(`Level=project,ProjectID=${project.project_id}`, can, fields, (values) => ({
    name: values.name, description: values.description, duration: Number(values.duration), level: "project",
    permissions: [{ kind: "project", namespace: project.name,
      access: ACCESS.filter(([action]) => values[action]).map(([action, resource]) => ({ action, resource })) }],
  }));
}

function scannerTab({ project, can }) {
  const [view, reload] = region("the scanner", async () => {
    const scanner = await get(`/projects/${project.project_id}/scanner`).catch((error) => {
      if (error.status === 404) return null;
      throw error;
    });
    const shown = scanner ? facts([["Name", scanner.name], ["Endpoint", scanner.url], ["Health", scanner.health],
      ["Vendor", scanner.vendor], ["Version", scanner.version]]) : h("p", { class: "empty" }, "No scanner is set.");
    const change = can("scanner:create") ? button("Select Scanner", async () => {
      const candidates = await get(`/projects/${project.project_id}/scanner/candidates?page_size=100`);
      dialog("Select Scanner", [["uuid", "Scanner", { options: candidates.map((c) => [c.uuid, `${c.name}${c.is_default ? " (default)" : ""}`]),
        value: scanner && scanner.uuid }]], async (values) => {
        await api("PUT", `/projects/${project.project_id}/scanner`, { body: { uuid: values.uuid } });
        reload();
      });
    }, { name: "select-scanner" }) : "";
    return [shown, change];
  });
  return view;
}

const PREVENT_SEVERITIES = [["critical", "Critical"], ["high", "High"], ["medium", "Medium"], ["low", "Low"], ["none", "None"]];

function configurationTab({ project, can }) {
  const metadata = project.metadata || {};
  const allowlist = project.cve_allowlist || { items: [] };
  const editable = can("metadata:update") || can("project:update");
  const check = (name, label) => h("label", { class: "check" },
    h("input", { type: "checkbox", name, checked: metadata[name] === "true", disabled: !editable }), label);
  const form = h("form", { class: "config" },
    h("fieldset", {}, h("legend", {}, "Project registry"), check("public", "Public: anyone can pull this project's images")),
    h("fieldset", {}, h("legend", {}, "Deployment security"),
      check("enable_content_trust_cosign", "Cosign: only signed images may be pulled"),
      check("prevent_vul", "Prevent vulnerable images from running"),
      h("label", {}, "Prevent images with vulnerability severity of and above",
        h("select", { name: "severity", disabled: !editable }, PREVENT_SEVERITIES.map(([value, text]) =>
          h("option", { value, selected: (metadata.severity || "low") === value }, text))))),
    h("fieldset", {}, h("legend", {}, "Vulnerability scanning"), check("auto_scan", "Automatically scan images on push")),
    h("fieldset", {}, h("legend", {}, "CVE allowlist"),
      check("reuse_sys_cve_allowlist", "Use the system allowlist"),
      h("label", {}, "Project allowlist (one CVE id per line)", h("textarea", { name: "cves", rows: 4, disabled: !editable },
        allowlist.items.map((item) => item.cve_id).join("\n"))),
      h("label", {}, "Allowlist expires (empty: never)", h("input", { type: "date", name: "expires", disabled: !editable,
        value: allowlist.expires_at ? new Date(allowlist.expires_at * 1000).toISOString().slice(0, 10) : "" }))),
    editable ? h("button", { type: "submit", class: "primary" }, "Save") : "");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = (name) => form.elements[name];
    const flags = ["public", "enable_content_trust_cosign", "prevent_vul", "auto_scan", "reuse_sys_cve_allowlist"];
    const expires = value("expires").value;
    const body = {
      metadata: { ...Object.fromEntries(flags.map((name) => [name, String(value(name).checked)])), severity: value("severity").value },
      cve_allowlist: { items: value("cves").value.split(/\s+/).filter(Boolean).map((cve_id) => ({ cve_id })),
        expires_at: expires ? Math.floor(new Date(`${expires}T00:00:00Z`).getTime() / 1000) : null },
    };
    act("Configuration saved.", () => api("PUT", `/projects/${project.project_id}`, { body }));
  });
  return form;
}
