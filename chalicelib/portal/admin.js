// Administration (system admins): users, robot accounts, registries, replications, labels, scanners and
// scan all, garbage collection, log rotation and configuration, on the same API as any client.

import { api, get } from "./api.js";
import { act, button, confirmDialog, dialog, facts, h, region, table, tabs, time } from "./dom.js";
import { labelEditor, robotTable } from "./projects.js";

const yes = () => true;

export function usersScreen(session) {
  const [list, reload] = region("users", async () => {
    const users = await get("/users?page_size=100");
    return table(["Name", "Administrator", "Email", "Registration Time", ""], users.map((user) => [
      user.username, user.sysadmin_flag ? "Yes" : "No", user.email, time(user.creation_time),
      user.username === session.username ? "" : h("span", { class: "row-actions" },
        button(user.sysadmin_flag ? "Revoke admin" : "Set as admin", () => act(`${user.username} updated.`,
          () => api("PUT", `/users/${user.user_id}/sysadmin`, { body: { sysadmin_flag: !user.sysadmin_flag } }), reload), { name: "toggle-admin" }),
        button("Delete", () => confirmDialog("Delete user", `Delete the user ${user.username}?`,
          () => act(`${user.username} deleted.`, () => api("DELETE", `/users/${user.user_id}`), reload)), { kind: "danger", name: "delete-user" })),
    ]));
  });
  const create = button("New User", () => dialog("New User", [["username", "Username", { required: true }],
    ["email", "Email", { type: "email", required: true }], ["realname", "First and last name", { required: true }],
    ["password", "Password", { type: "password", required: true }], ["comment", "Comments"]], async (values) => {
    await api("POST", "/users", { body: values });
    reload();
  }), { kind: "primary", name: "new-user" });
  return [h("h1", {}, "Users"), h("div", { class: "toolbar" }, create), list];
}

export function robotsScreen() {
  const fields = [["name", "Name", { required: true }], ["description", "Description"],
    ["duration", "Expires after (days, -1 never)", { type: "number", value: 30 }],
    ["pull", "Pull from every project", { type: "checkbox", value: true }], ["push", "Push to every project", { type: "checkbox" }]];
  return [h("h1", {}, "Robot Accounts"), robotTable("Level=system", yes, fields, (values) => ({
    name: values.name, description: values.description, duration: Number(values.duration), level: "system",
    permissions: [{ kind: "project", namespace: "*", access: [["pull", values.pull], ["push", values.push]]
      .filter(([, on]) => on).map(([action]) => ({ action, resource: "repository" })) }],
  }))];
}

export const labelsScreen = () => [h("h1", {}, "Labels"), labelEditor("g", 0, yes, "system")];

const REGISTRY_TYPES = [["harbor", "Harbor"], ["docker-registry", "Docker Registry"], ["docker-hub", "Docker Hub"]];

export function registriesScreen() {
  const [list, reload] = region("registries", async () => {
    const registries = await get("/registries?page_size=100");
    return table(["Name", "Status", "Endpoint URL", "Provider", "Creation Time", ""], registries.map((registry) => [
      registry.name, registry.status, registry.url, registry.type, time(registry.creation_time),
      button("Delete", () => confirmDialog("Delete registry", `Delete the endpoint ${registry.name}?`,
        () => act(`${registry.name} deleted.`, () => api("DELETE", `/registries/${registry.id}`), reload)), { kind: "danger", name: "delete-registry" }),
    ]), "No registry endpoint yet.");
  });
  const create = button("New Endpoint", () => dialog("New Registry Endpoint", [["type", "Provider", { options: REGISTRY_TYPES }],
    ["name", "Name", { required: true }], ["url", "Endpoint URL", { type: "url", required: true }],
    ["access_key", "Access ID"], ["access_secret", "Access secret", { type: "password" }],
    ["insecure", "Verify remote certificate", { type: "checkbox", value: true }]], async (values) => {
    const credential = values.access_key ? { type: "basic", access_key: values.access_key, access_secret: values.access_secret } : undefined;
    await api("POST", "/registries", { body: { name: values.name, type: values.type, url: values.url, insecure: !values.insecure, credential } });
    reload();
  }), { kind: "primary", name: "new-registry" });
  return [h("h1", {}, "Registries"), h("div", { class: "toolbar" }, create), list];
}

export function replicationsScreen() {
  const [executions, reloadExecutions] = region("executions", async (again) => {
    const found = await get("/replication/executions?page_size=15");
    again(found.some((e) => e.status === "InProgress"));
    return table(["ID", "Policy", "Status", "Trigger", "Start Time", "Succeeded / Total"], found.map((e) => [
      String(e.id), String(e.policy_id), e.status, e.trigger, time(e.start_time), `${e.succeed} / ${e.total}`]), "No execution yet.");
  });
  const [policies, reload] = region("replication rules", async () => {
    const [rules, registries] = await Promise.all([get("/replication/policies?page_size=100"), get("/registries?page_size=100")]);
    const create = button("New Replication Rule", () => dialog("New Replication Rule", [["name", "Name", { required: true }],
      ["direction", "Replication mode", { options: [["push", "Push-based"], ["pull", "Pull-based"]] }],
      ["registry", "Registry", { options: registries.map((r) => [r.id, `${r.name} (${r.url})`]) }],
      ["filter", "Source resource filter: name (e.g. library/**)"], ["dest", "Destination namespace (empty: the same)"],
      ["trigger", "Trigger mode", { options: [["manual", "Manual"], ["event_based", "Event Based"]] }],
      ["override", "Override", { type: "checkbox", value: true }]], async (values) => {
      const remote = { id: Number(values.registry) };
      await api("POST", "/replication/policies", { body: {
        name: values.name, enabled: true, override: values.override, trigger: { type: values.trigger },
        src_registry: values.direction === "pull" ? remote : undefined, dest_registry: values.direction === "push" ? remote : undefined,
        filters: values.filter ? [{ type: "name", value: values.filter }] : [], dest_namespace: values.dest || undefined } });
      reload();
    }), { kind: "primary", name: "new-rule" });
    return [h("div", { class: "toolbar" }, registries.length ? create : h("p", { class: "empty" }, "Add a registry endpoint first.")),
      table(["Name", "Status", "Source", "Destination", "Trigger", ""], rules.map((rule) => [
        rule.name, rule.enabled ? "Enabled" : "Disabled", rule.src_registry ? rule.src_registry.name : "Local",
        rule.dest_registry ? rule.dest_registry.name : "Local", rule.trigger ? rule.trigger.type : "manual",
        h("span", { class: "row-actions" },
          button("Replicate", () => act(`Replication of ${rule.name} started.`, () => api("POST", "/replication/executions",
            { body: { policy_id: rule.id } }), reloadExecutions), { name: "replicate" }),
          button("Delete", () => confirmDialog("Delete rule", `Delete the rule ${rule.name}?`,
            () => act(`${rule.name} deleted.`, () => api("DELETE", `/replication/policies/${rule.id}`), reload)), { kind: "danger", name: "delete-rule" }))]),
      "No replication rule yet.")];
  });
  return [h("h1", {}, "Replications"), policies, h("h2", {}, "Executions"), executions];
}

const SCHEDULES = [["None", "None"], ["Hourly", "Hourly"], ["Daily", "Daily"], ["Weekly", "Weekly"], ["Custom", "Custom (cron)"]];

// A schedule form for a system job (GC, log rotation, scan all): type, cron when custom, and the job's parameters.
function scheduleForm(path, saved, parameterFields, toParameters, afterRun) {
  const current = saved && saved.schedule ? saved : null;  // none: null (GC, log rotation) or {} (scan all)
  const type = (current && current.schedule.type) || "None";
  const form = h("form", { class: "config", "aria-label": "Schedule" },
    h("label", {}, "Schedule", h("select", { name: "type" }, SCHEDULES.map(([v, t]) => h("option", { value: v, selected: v === type }, t)))),
    h("label", {}, "Cron (for Custom: seconds minutes hours day month weekday)",
      h("input", { name: "cron", value: (current && current.schedule.cron) || "", placeholder: "0 0 * * * *" })),
    current && current.schedule.next_scheduled_time
      ? h("p", { class: "muted" }, `Next run: ${time(current.schedule.next_scheduled_time)}`) : "",
    parameterFields,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary", name: "save-schedule" }, "Save schedule"),
      button("Run now", () => act("Started.", () => api("POST", `${path}/schedule`, {
        body: { schedule: { type: "Manual" }, parameters: toParameters(form) } }), afterRun), { name: "run-now" })));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const body = { schedule: { type: form.elements.type.value, cron: form.elements.cron.value }, parameters: toParameters(form) };
    act("Schedule saved.", () => api(current ? "PUT" : "POST", `${path}/schedule`, { body }));
  });
  return form;
}

function jobHistory(path, what) {
  const [list, reload] = region(what, async (again) => {
    const runs = await get(`${path}?page_size=10`);
    again(runs.some((r) => ["Running", "Pending"].includes(r.job_status)));
    return table(["Job ID", "Trigger", "Dry Run", "Status", "Creation Time", "Update Time", "Logs"], runs.map((run) => [
      String(run.id), run.job_kind, parametersOf(run).dry_run ? "Yes" : "No", run.job_status,
      time(run.creation_time), time(run.update_time), h("a", { href: `/api/v2.0${path}/${run.id}/log`, target: "_blank", rel: "noopener" }, "Log")]),
    "No run yet.");
  });
  return [h("div", {}, h("div", { class: "toolbar" }, button("Refresh", reload)), list), reload];
}

const CLEAN_UP = [["/harbor/clearing-job/gc", "Garbage Collection", "gc"], ["/harbor/clearing-job/audit-log-purge", "Log Rotation", "purge"]];

const schedule = (path) => get(`${path}/schedule`);
// Harbor gives a job's parameters as a JSON string.
const parametersOf = (run) => (run && run.job_parameters ? JSON.parse(run.job_parameters) : {});

export async function gcScreen() {
  const current = await schedule("/system/gc");
  const parameters = parametersOf(current);
  const fields = h("label", { class: "check" }, h("input", { type: "checkbox", name: "delete_untagged", checked: Boolean(parameters.delete_untagged) }),
    "Allow garbage collection on untagged artifacts");
  const toParameters = (form) => ({ delete_untagged: form.elements.delete_untagged.checked, dry_run: false });
  const [history, reload] = jobHistory("/system/gc", "GC history");
  const form = scheduleForm("/system/gc", current, fields, toParameters, reload);
  form.querySelector(".actions").append(button("Dry run", () => act("Dry run started.", () => api("POST", "/system/gc/schedule", {
    body: { schedule: { type: "Manual" }, parameters: { ...toParameters(form), dry_run: true } } }), reload), { name: "dry-run" }));
  return [h("h1", {}, "Clean Up"), tabs(CLEAN_UP, "gc"), form, h("h2", {}, "GC History"), history];
}

const PURGED = [["create", "Create"], ["delete", "Delete"], ["pull", "Pull"]];

export async function logRotationScreen() {
  const current = await schedule("/system/purgeaudit");
  const parameters = parametersOf(current);
  const included = (parameters.include_operations || "create,delete,pull").split(",");
  const fields = h("div", {}, h("label", {}, "Keep records in (hours)",
    h("input", { type: "number", name: "hours", min: 1, value: parameters.audit_retention_hour || 720 })),
  h("fieldset", {}, h("legend", {}, "Include operations"), PURGED.map(([value, text]) => h("label", { class: "check" },
    h("input", { type: "checkbox", name: `op-${value}`, checked: included.includes(value) }), text))));
  const toParameters = (form) => ({ audit_retention_hour: Number(form.elements.hours.value), dry_run: false,
    include_operations: PURGED.map(([v]) => v).filter((v) => form.elements[`op-${v}`].checked).join(",") });
  const [history, reload] = jobHistory("/system/purgeaudit", "purge history");
  return [h("h1", {}, "Clean Up"), tabs(CLEAN_UP, "purge"), scheduleForm("/system/purgeaudit", current, fields, toParameters, reload),
    h("h2", {}, "Purge History"), history];
}

const SCANNING = [["/harbor/interrogation-services/scanners", "Scanners", "scanners"],
  ["/harbor/interrogation-services/vulnerability", "Vulnerability", "vulnerability"]];

export function scannersScreen() {
  const [list, reload] = region("scanners", async () => {
    const scanners = await get("/scanners?page_size=100");
    return table(["Name", "Endpoint", "Default", "Enabled", "Description", ""], scanners.map((scanner) => [
      scanner.name, scanner.url, scanner.is_default ? "Yes" : "No", scanner.disabled ? "No" : "Yes", scanner.description || "",
      h("span", { class: "row-actions" },
        scanner.is_default ? "" : button("Set as default", () => act(`${scanner.name} is the default.`,
          () => api("PATCH", `/scanners/${scanner.uuid}`, { body: { is_default: true } }), reload), { name: "set-default" }),
        button("Delete", () => confirmDialog("Delete scanner", `Delete the scanner ${scanner.name}?`,
          () => act(`${scanner.name} deleted.`, () => api("DELETE", `/scanners/${scanner.uuid}`), reload)), { kind: "danger", name: "delete-scanner" })),
    ]), "No scanner.");
  });
  const create = button("New Scanner", () => dialog("Add Scanner", [["name", "Name", { required: true }], ["description", "Description"],
    ["url", "Endpoint", { type: "url", required: true }]], async (values) => {
    await api("POST", "/scanners", { body: { ...values, auth: "" } });
    reload();
  }), { kind: "primary", name: "new-scanner" });
  return [h("h1", {}, "Interrogation Services"), tabs(SCANNING, "scanners"), h("div", { class: "toolbar" }, create), list];
}

export async function scanAllScreen() {
  const current = await schedule("/system/scanAll");
  const [metrics, reload] = region("scan metrics", async (again) => {
    const found = await get("/scans/all/metrics");
    again(found.ongoing);
    const counts = Object.entries(found.metrics || {}).map(([status, count]) => `${count} ${status}`).join(", ");
    return facts([["Total", found.total], ["Completed", found.completed], ["By status", counts || "—"],
      ["Running", found.ongoing ? "Yes" : "No"], ["Trigger", found.trigger || "—"]]);
  });
  const form = scheduleForm("/system/scanAll", current, "", () => undefined, reload);
  const scanNow = form.querySelector("[data-action=run-now]");
  scanNow.textContent = "Scan now";
  form.querySelector(".actions").append(button("Stop", () => act("Stop requested.", () => api("POST", "/system/scanAll/stop"), reload), { name: "stop-scan-all" }));
  return [h("h1", {}, "Interrogation Services"), tabs(SCANNING, "vulnerability"), h("h2", {}, "Scan all"), metrics, form];
}

// Harbor's configuration items (GET /configurations gives each with its value and whether it is editable).
const SETTINGS = [["project_creation_restriction", "Project creation", [["everyone", "Everyone"], ["adminonly", "Admin only"]]],
  ["read_only", "Repository read only", "bool"], ["robot_token_duration", "Robot token expiration (days)", "number"],
  ["robot_name_prefix", "Robot name prefix", "text"], ["audit_log_forward_endpoint", "Audit log forward endpoint", "text"],
  ["skip_audit_log_database", "Skip audit log database", "bool"]];

export async function configurationScreen() {
  const found = await get("/configurations");
  const shown = SETTINGS.filter(([key]) => key in found);
  const field = ([key, label, kind]) => {
    const { value, editable } = found[key];
    if (kind === "bool") return h("label", { class: "check" }, h("input", { type: "checkbox", name: key, checked: value === true, disabled: !editable }), label);
    if (Array.isArray(kind)) return h("label", {}, label, h("select", { name: key, disabled: !editable }, kind.map(([v, t]) => h("option", { value: v, selected: v === value }, t))));
    return h("label", {}, label, h("input", { type: kind, name: key, value: value ?? "", disabled: !editable }));
  };
  const form = h("form", { class: "config" }, h("fieldset", {}, h("legend", {}, "System Settings"), shown.map(field)),
    h("button", { type: "submit", class: "primary" }, "Save"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const body = {};
    for (const [key, , kind] of shown) {
      if (!found[key].editable) continue;
      const input = form.elements[key];
      body[key] = kind === "bool" ? input.checked : kind === "number" ? Number(input.value) : input.value;
    }
    act("Configuration saved.", () => api("PUT", "/configurations", { body }));
  });
  return [h("h1", {}, "Configuration"), form];
}
