// A repository's artifacts (tags, digest, size, times, severity bar, signature, accessories and index
// children; scan, copy the pull command, add a tag, labels, delete) and an artifact's details
// (vulnerabilities, build history, referrers and accessories).

import { api, get, permissions, repoPath } from "./api.js";
import { overviewOf, severityBar, SEVERITIES } from "./charts.js";
import { act, button, confirmDialog, copyText, dialog, facts, h, link, pager, region, size, table, time } from "./dom.js";
import { labelChip } from "./projects.js";

const PAGE = 15;
const DETAIL = "with_tag=true&with_label=true&with_scan_overview=true&with_signature=true&with_accessory=true";
const busy = (overview) => overview && ["Pending", "Running", "Scheduled"].includes(overview.scan_status);

async function context(projectId, repository) {
  const [project, held] = await Promise.all([get(`/projects/${projectId}`), permissions(`/project/${projectId}`)]);
  const base = `/projects/${encodeURIComponent(project.name)}/repositories/${repoPath(repository)}`;
  return { project, base, can: (permission) => held.has(permission), full: `${project.name}/${repository}` };
}

const crumbs = (project, repository, digest) => h("p", { class: "crumbs" }, link("/harbor/projects", "Projects"), " / ",
  link(`/harbor/projects/${project.project_id}/repositories`, project.name),
  digest ? [" / ", link(`/harbor/projects/${project.project_id}/repositories/${encodeURIComponent(repository)}`, repository)] : "");

function pullCommand(full, artifact) {
  const tag = (artifact.tags || [])[0];
  return `docker pull ${location.host}/${full}${tag ? `:${tag.name}` : `@${artifact.digest}`}`;
}

function descriptionEditor(base, can) {
  const [view, reload] = region("the description", async () => {
    const repository = await get(base);
    const text = h("p", { class: "description", "data-field": "description" }, repository.description || "No description.");
    const edit = can("repository:update") ? button("Edit description", () => dialog("Description",
      [["description", "Description", { type: "textarea", value: repository.description || "" }]], async (values) => {
        await api("PUT", base, { body: { description: values.description } });
        reload();
      }), { name: "edit-description" }) : "";
    return [text, edit];
  });
  return view;
}

export async function repositoryScreen(projectId, repository) {
  const { project, base, can, full } = await context(projectId, repository);
  const position = { page: 1 };
  const [list, reload] = region("artifacts", async (again) => {
    const artifacts = await get(`${base}/artifacts?page=${position.page}&page_size=${PAGE}&${DETAIL}`);
    again(artifacts.some((a) => busy(overviewOf(a))));
    const rows = artifacts.map((artifact) => artifactRow(project, repository, base, full, artifact, can, reload));
    return [table(["Artifact", "Tags", "Size", "Vulnerabilities", "Signed", "Labels", "Push Time", "Pull Time", "Actions"], rows,
      "No artifact in this repository."), pager(position, artifacts.total, PAGE, reload)];
  });
  return [crumbs(project, repository), h("h1", {}, full), descriptionEditor(base, can), h("h2", {}, "Artifacts"), list];
}

function artifactRow(project, repository, base, full, artifact, can, reload) {
  const at = `${base}/artifacts/${artifact.digest}`;
  const short = artifact.digest.slice(0, 15);
  const signed = (artifact.tags || []).some((t) => t.signed) || (artifact.accessories || []).some((a) => a.type === "signature.cosign");
  const children = (artifact.references || []).map((r) => r.platform ? `${r.platform.os}/${r.platform.architecture}` : r.child_digest.slice(0, 15));
  const accessories = (artifact.accessories || []).map((a) => `${a.type} ${a.digest.slice(0, 15)}`);
  const actions = [
    button("Copy pull command", () => copyText(pullCommand(full, artifact)), { name: "copy-pull" }),
    can("scan:create") && artifact.addition_links && artifact.addition_links.vulnerabilities
      ? button("Scan", () => act(`Scan of ${short} requested.`, () => api("POST", `${at}/scan`, { body: {} }), reload), { name: "scan" }) : "",
    can("tag:create") ? button("Add tag", () => dialog("Add Tag", [["name", "Tag", { required: true }]], async (values) => {
      await api("POST", `${at}/tags`, { body: { name: values.name } });
      reload();
    }), { name: "add-tag" }) : "",
    can("artifact-label:create") ? button("Labels", () => labelsDialog(project, at, artifact, reload), { name: "labels" }) : "",
    can("artifact:delete") ? button("Delete", () => confirmDialog("Delete artifact", `Delete ${full}@${artifact.digest}?`,
      () => act(`${short} deleted.`, () => api("DELETE", at), reload)), { kind: "danger", name: "delete-artifact" }) : "",
  ];
  return [
    h("div", {}, link(`/harbor/projects/${project.project_id}/repositories/${encodeURIComponent(repository)}/artifacts/${artifact.digest}`, short),
      children.length ? h("div", { class: "muted" }, `Index: ${children.join(", ")}`) : "",
      accessories.length ? h("div", { class: "muted" }, `Accessories: ${accessories.join(", ")}`) : ""),
    (artifact.tags || []).map((t) => t.name).join(", "),
    size(artifact.size),
    severityBar(overviewOf(artifact)),
    signed ? h("span", { class: "clean" }, "Signed") : h("span", { class: "muted" }, "Unsigned"),
    h("span", {}, (artifact.labels || []).map(labelChip)),
    time(artifact.push_time), time(artifact.pull_time),
    h("span", { class: "row-actions" }, actions),
  ];
}

async function labelsDialog(project, at, artifact, reload) {
  const [system, own] = await Promise.all([get("/labels?scope=g&page_size=100"), get(`/labels?scope=p&project_id=${project.project_id}&page_size=100`)]);
  const attached = new Set((artifact.labels || []).map((l) => l.id));
  const all = [...system, ...own];
  dialog("Labels", all.map((l) => [`label-${l.id}`, l.name, { type: "checkbox", value: attached.has(l.id) }]), async (values) => {
    for (const label of all) {
      const wanted = values[`label-${label.id}`];
      if (wanted && !attached.has(label.id)) await api("POST", `${at}/labels`, { body: { id: label.id } });
      if (!wanted && attached.has(label.id)) await api("DELETE", `${at}/labels/${label.id}`);
    }
    reload();
  }, { confirm: "Save", intro: all.length ? "" : "No label exists yet: a project admin makes them in Labels." });
}

export async function artifactScreen(projectId, repository, digest) {
  const { project, base, can, full } = await context(projectId, repository);
  const at = `${base}/artifacts/${digest}`;
  const [details, reload] = region("the artifact", async () => {
    const artifact = await get(`${at}?${DETAIL}`);
    const tags = table(["Tag", "Pushed", "Pulled", ""], (artifact.tags || []).map((tag) => [tag.name, time(tag.push_time), time(tag.pull_time),
      can("tag:delete") ? button("Delete tag", () => confirmDialog("Delete tag", `Delete the tag ${tag.name}?`,
        () => act(`Tag ${tag.name} deleted.`, () => api("DELETE", `${at}/tags/${encodeURIComponent(tag.name)}`), reload)),
      { kind: "danger", name: "delete-tag" }) : ""]), "No tag.");
    return [facts([["Digest", artifact.digest], ["Type", artifact.type], ["Media type", artifact.manifest_media_type],
      ["Size", size(artifact.size)], ["Pushed", time(artifact.push_time)], ["Pulled", time(artifact.pull_time)],
      ["Pull command", pullCommand(full, artifact)]]),
    h("div", { class: "toolbar" }, severityBar(overviewOf(artifact)), (artifact.labels || []).map(labelChip)),
    h("h2", {}, "Tags"), tags,
    h("h2", {}, "Referrers and accessories"), referrers(project, repository, artifact)];
  });
  const [vulnerabilities] = region("vulnerabilities", () => vulnerabilityTable(at));
  const [history] = region("the build history", async () => {
    const steps = await get(`${at}/additions/build_history`).catch((e) => (e.status === 404 ? [] : Promise.reject(e)));
    return table(["Created", "Command"], steps.map((step) => [time(step.created), h("code", {}, step.created_by || "")]), "No build history.");
  });
  return [crumbs(project, repository, digest), h("h1", {}, `${full}@${digest.slice(0, 19)}`), details,
    h("section", { id: "vulnerabilities" }, h("h2", {}, "Vulnerabilities"), vulnerabilities),
    h("section", { id: "build-history" }, h("h2", {}, "Build History"), history)];
}

function referrers(project, repository, artifact) {
  const to = (digest) => link(`/harbor/projects/${project.project_id}/repositories/${encodeURIComponent(repository)}/artifacts/${digest}`, digest.slice(0, 19));
  const rows = [
    ...(artifact.references || []).map((r) => ["Index child", to(r.child_digest), r.platform ? `${r.platform.os}/${r.platform.architecture}` : ""]),
    ...(artifact.accessories || []).map((a) => [a.type, to(a.digest), size(a.size)]),
  ];
  return table(["Kind", "Digest", "Detail"], rows, "None.");
}

async function vulnerabilityTable(at) {
  const report = await get(`${at}/additions/vulnerabilities`).catch((e) => (e.status === 404 ? {} : Promise.reject(e)));
  const found = Object.values(report || {})[0];
  if (!found || !found.vulnerabilities) return h("p", { class: "empty" }, "Not scanned yet.");
  const rank = (s) => SEVERITIES.indexOf(s) === -1 ? SEVERITIES.length : SEVERITIES.indexOf(s);
  const filter = h("input", { type: "search", name: "vulnerability-filter", placeholder: "CVE or package", "aria-label": "Filter by CVE or package" });
  const severity = h("select", { name: "severity-filter", "aria-label": "Severity" },
    h("option", { value: "" }, "All severities"), SEVERITIES.map((s) => h("option", { value: s }, s)));
  const order = h("select", { name: "sort", "aria-label": "Sort by" }, [["severity", "Sort by severity"], ["id", "Sort by CVE"],
    ["package", "Sort by package"]].map(([v, t]) => h("option", { value: v }, t)));
  const body = h("div", {});
  const render = () => {
    const text = filter.value.trim().toLowerCase();
    const shown = found.vulnerabilities.filter((v) => (!severity.value || v.severity === severity.value)
      && (!text || v.id.toLowerCase().includes(text) || v.package.toLowerCase().includes(text)))
      .sort((a, b) => order.value === "severity" ? rank(a.severity) - rank(b.severity) || a.id.localeCompare(b.id)
        : String(a[order.value]).localeCompare(String(b[order.value])));
    body.replaceChildren(h("p", { class: "muted" }, `${shown.length} of ${found.vulnerabilities.length} vulnerabilities`),
      table(["Vulnerability", "Severity", "Package", "Current version", "Fixed in version", "Description"], shown.map((v) => [
        /^https?:\/\//.test((v.links || [])[0]) ? h("a", { href: v.links[0], rel: "noreferrer noopener", target: "_blank" }, v.id) : v.id,
        h("span", { class: `sev sev-${v.severity}` }, v.severity), v.package, v.version, v.fix_version || "",
        h("span", { class: "clip", title: v.description || "" }, (v.description || "").slice(0, 160))]), "No vulnerability matches."));
  };
  for (const control of [filter, severity, order]) control.addEventListener("input", render);
  render();
  return [h("div", { class: "toolbar" }, filter, severity, order), body];
}
