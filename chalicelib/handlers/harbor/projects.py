"""/projects: create, list, HEAD by name, get, update, delete when empty, summary, metadata."""

from __future__ import annotations

from typing import Any

from chalicelib import allowlists, inputs, projects
from chalicelib.auth.access import (
    DEVELOPER,
    GUEST,
    LIMITED_GUEST,
    MAINTAINER,
    PROJECT_ADMIN,
    project_permissions,
)
from chalicelib.errors import DomainError, harbor_error
from chalicelib.handlers.harbor.context import ApiContext, bool_param, respond
from chalicelib.handlers.harbor.paging import list_headers, page_of, query_of, sort_of, window
from chalicelib.handlers.http import HttpResponse
from chalicelib.replication import proxy

BOOLEAN_METADATA = ("public", "enable_content_trust", "enable_content_trust_cosign", "prevent_vul", "auto_scan",
                    "reuse_sys_cve_allowlist")
SEVERITIES = ("none", "low", "medium", "high", "critical")
METADATA_KEYS = (*BOOLEAN_METADATA, "severity", "retention_id")


def _check_metadata(raw: Any) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise harbor_error("BAD_REQUEST", "metadata must be an object")
    checked: dict[str, str] = {}
    for key, value in raw.items():
        if key not in METADATA_KEYS:
            raise harbor_error("BAD_REQUEST", f"invalid metadata key: {str(key)[:50]}")
        value = str(value).lower() if isinstance(value, bool) else value
        if not isinstance(value, str):
            raise harbor_error("BAD_REQUEST", f"metadata {key} must be a string")
        if key in BOOLEAN_METADATA and value not in ("true", "false"):
            raise harbor_error("BAD_REQUEST", f'metadata {key} must be "true" or "false"')
        if key == "severity" and value not in SEVERITIES:
            raise harbor_error("BAD_REQUEST", f"severity must be one of {', '.join(SEVERITIES)}")
        checked[key] = value
    return checked


def _request_metadata(body: dict[str, Any]) -> dict[str, str]:
    meta = _check_metadata(body.get("metadata"))
    public = body.get("public")
    if public is not None:
        if not isinstance(public, bool):
            raise harbor_error("BAD_REQUEST", "public must be a boolean")
        meta["public"] = "true" if public else "false"
    return meta


def project_json(ctx: ApiContext, project: projects.Project, role: int | None = None,
                 allowlist: allowlists.Allowlist | None = None) -> dict[str, Any]:
    """A project; lists leave the CVE allowlist out of each item's read (an empty one shows)."""
    role = role if role is not None else ctx.role(project)
    return {
        "project_id": project.project_id, "owner_id": project.owner_id, "name": project.name,
        "registry_id": project.registry_id,
        "creation_time": project.creation_time, "update_time": project.update_time, "deleted": False,
        "owner_name": project.owner_name, "togglable": True, "current_user_role_id": role or 0,
        "current_user_role_ids": [role] if role else [], "repo_count": len(projects.repository_names(project.name)),
        "chart_count": 0, "metadata": project.metadata,
        "cve_allowlist": allowlists.to_json(allowlist or allowlists.Allowlist(project.project_id)),
    }


def create_project(ctx: ApiContext) -> HttpResponse:
    ctx.require_authenticated()
    if ctx.principal.user_id is None:
        raise harbor_error("FORBIDDEN", "robot accounts cannot create projects")
    body = ctx.body()
    name = body.get("project_name")
    if not isinstance(name, str) or not projects.valid_project_name(name):
        raise harbor_error("BAD_REQUEST", "project name must be 1 to 255 lower-case letters, digits and . _ - "
                                          "(not at either end)")
    registry_id = body.get("registry_id") or 0
    if not isinstance(registry_id, int) or isinstance(registry_id, bool) or registry_id < 0:
        raise harbor_error("BAD_REQUEST", "registry_id must be a registry id")
    meta = _request_metadata(body)
    public = meta.pop("public", "false") == "true"
    if registry_id:
        project = proxy.create_project(name, registry_id, owner_id=ctx.principal.user_id,
                                       owner_name=ctx.principal.username, public=public, extra_metadata=meta,
                                       by_sysadmin=ctx.principal.sysadmin)
    else:
        project = projects.create(name, owner_id=ctx.principal.user_id, owner_name=ctx.principal.username,
                                  public=public, extra_metadata=meta, by_sysadmin=ctx.principal.sysadmin)
    in_location = (ctx.request.header("x-resource-name-in-location") or "").lower() == "true"
    return respond(201, headers={"Location": f"/api/v2.0/projects/{name if in_location else project.project_id}"})


def head_project(ctx: ApiContext) -> HttpResponse:
    name = ctx.request.param("project_name")
    if not name:
        raise DomainError("UNPROCESSABLE_ENTITY", "project_name in query is required")
    return respond(200 if projects.get_project(name) else 404)


def list_projects(ctx: ApiContext) -> HttpResponse:
    """Public projects and the caller's (everything for an admin), streamed in name order."""
    page = page_of(ctx.request)
    conditions = query_of(ctx.request, ("name", "owner"), integers=("project_id",), booleans=("public",))
    _, descending = sort_of(ctx.request, ("name",), "name")
    name, owner, public = ctx.request.param("name"), ctx.request.param("owner"), bool_param(ctx.request, "public")
    # An admin sees every project: its roles are read for the page only, not for all its memberships.
    admin = ctx.principal.sysadmin
    roles = projects.roles_by_name(ctx.principal.user_id) if not admin else {}
    fields = {"name": lambda p: p.name, "public": lambda p: p.public, "owner": lambda p: p.owner_name,
              "project_id": lambda p: p.project_id}

    def keep(project: projects.Project) -> bool:
        return ((admin or project.public or project.name in roles)
                and (not name or name.lower() in project.name.lower())
                and (owner is None or project.owner_name == owner)
                and (public is None or project.public == public)
                and all(c.matches(fields[k](project)) for k, c in conditions.items()))

    selected, total = window(projects.iter_projects(descending=descending), page, keep)
    if admin and ctx.principal.user_id:
        roles_by_id = projects.roles_in(ctx.principal.user_id, selected)
        roles = {p.name: roles_by_id[p.project_id] for p in selected if p.project_id in roles_by_id}
    body = [project_json(ctx, p, roles.get(p.name, 0)) for p in selected]
    return respond(200, body, list_headers(ctx.request, "/api/v2.0/projects", page, total))


def get_project(ctx: ApiContext, project_name_or_id: str) -> HttpResponse:
    project = ctx.project(project_name_or_id, ("project", "read"))
    return respond(200, project_json(ctx, project, allowlist=allowlists.get(project)))


def update_project(ctx: ApiContext, project_name_or_id: str) -> HttpResponse:
    """Metadata, and the project's own CVE allowlist when `cve_allowlist` is sent. Everything is checked
    before anything is written."""
    project = ctx.project(project_name_or_id, ("project", "update"))
    body = ctx.body()
    meta = _request_metadata(body)
    allowlist = allowlists.parse(body["cve_allowlist"]) if body.get("cve_allowlist") is not None else None
    projects.update_project(project, meta)
    if allowlist is not None:
        allowlists.put(project, *allowlist)
    return respond(200)




def deletable(ctx: ApiContext, project_name_or_id: str) -> HttpResponse:
    project = ctx.project(project_name_or_id, ("project", "delete"))
    ok, message = projects.deletable(project)
    return respond(200, {"deletable": ok, "message": message})


def delete_project(ctx: ApiContext, project_name_or_id: str) -> HttpResponse:
    project = ctx.project(project_name_or_id, ("project", "delete"))
    projects.delete(project, ctx.principal.username)
    return respond(200)


def summary(ctx: ApiContext, project_name_or_id: str) -> HttpResponse:
    project = ctx.project(project_name_or_id, ("project", "read"))
    body: dict[str, Any] = {"repo_count": len(projects.repository_names(project.name)), "chart_count": 0}
    if ("member", "list") in project_permissions(ctx.principal, project):
        counts = {role: 0 for role in (PROJECT_ADMIN, MAINTAINER, DEVELOPER, GUEST, LIMITED_GUEST)}
        for member in projects.list_members(project):
            counts[member.role_id] += 1
        body |= {"project_admin_count": counts[PROJECT_ADMIN], "maintainer_count": counts[MAINTAINER],
                 "developer_count": counts[DEVELOPER], "guest_count": counts[GUEST],
                 "limited_guest_count": counts[LIMITED_GUEST]}
    return respond(200, body)


def list_metadata(ctx: ApiContext, project_name_or_id: str) -> HttpResponse:
    return respond(200, ctx.project(project_name_or_id, ("metadata", "list")).metadata)


def add_metadata(ctx: ApiContext, project_name_or_id: str) -> HttpResponse:
    project = ctx.project(project_name_or_id, ("metadata", "create"))
    projects.update_project(project, _check_metadata(ctx.body()))
    return respond(200)


def _metadata_key(meta_name: str) -> str:
    if meta_name not in METADATA_KEYS:
        raise harbor_error("BAD_REQUEST", f"invalid metadata key: {meta_name[:50]}")
    return meta_name


def get_metadata(ctx: ApiContext, project_name_or_id: str, meta_name: str) -> HttpResponse:
    project = ctx.project(project_name_or_id, ("metadata", "read"))
    key = _metadata_key(meta_name)
    if key not in project.metadata:
        raise harbor_error("NOT_FOUND", f"metadata {key} not found")
    return respond(200, {key: project.metadata[key]})


def update_metadata(ctx: ApiContext, project_name_or_id: str, meta_name: str) -> HttpResponse:
    project = ctx.project(project_name_or_id, ("metadata", "update"))
    body = _check_metadata(ctx.body())
    if set(body) != {_metadata_key(meta_name)}:
        raise harbor_error("BAD_REQUEST", f"the body must hold exactly the metadata {meta_name[:50]}")
    projects.update_project(project, body)
    return respond(200)


def delete_metadata(ctx: ApiContext, project_name_or_id: str, meta_name: str) -> HttpResponse:
    project = ctx.project(project_name_or_id, ("metadata", "delete"))
    key = _metadata_key(meta_name)
    if key == "public":
        raise harbor_error("BAD_REQUEST", "the metadata public cannot be deleted")
    projects.delete_metadata(project, key)
    return respond(200)


def get_retention(ctx: ApiContext, retention_id: str) -> HttpResponse:
    """A project's tag retention policy, for those who may read the project (Harbor: retention read)."""
    policy = proxy.retention(inputs.decimal(retention_id) or 0)
    if policy is None:
        raise harbor_error("NOT_FOUND", f"retention policy {retention_id[:20]} not found")
    ctx.project(str(policy["scope"]["ref"]), ("project", "read"))
    return respond(200, policy)


ROUTES = [
    ("GET", "/projects", list_projects), ("POST", "/projects", create_project), ("HEAD", "/projects", head_project),
    ("GET", "/projects/{project_name_or_id}", get_project), ("PUT", "/projects/{project_name_or_id}", update_project),
    ("DELETE", "/projects/{project_name_or_id}", delete_project),
    ("GET", "/projects/{project_name_or_id}/_deletable", deletable),
    ("GET", "/projects/{project_name_or_id}/summary", summary),
    ("GET", "/projects/{project_name_or_id}/metadatas", list_metadata),
    ("POST", "/projects/{project_name_or_id}/metadatas", add_metadata),
    ("GET", "/projects/{project_name_or_id}/metadatas/{meta_name}", get_metadata),
    ("PUT", "/projects/{project_name_or_id}/metadatas/{meta_name}", update_metadata),
    ("DELETE", "/projects/{project_name_or_id}/metadatas/{meta_name}", delete_metadata),
    ("GET", "/retentions/{retention_id}", get_retention),
]
