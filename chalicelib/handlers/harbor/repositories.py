"""/projects/{p}/repositories and /repositories: list, get, describe, delete with every artifact."""

from __future__ import annotations

from typing import Any

from chalicelib import projects
from chalicelib.errors import harbor_error
from chalicelib.handlers.harbor.context import ApiContext, respond
from chalicelib.handlers.harbor.paging import list_headers, page_of, query_of, sort_of, window
from chalicelib.handlers.http import HttpResponse
from chalicelib.registry import records, service


def repository_json(repository: records.Repository, project_id: int) -> dict[str, Any]:
    return {"id": repository.repository_id, "project_id": project_id, "name": repository.name,
            "description": repository.description, "artifact_count": repository.artifact_count,
            "pull_count": repository.pull_count,
            "creation_time": repository.creation_time, "update_time": repository.update_time}


def full_name(project_name: str, repository_name: str) -> str:
    return f"{project_name}/{repository_name}"


def find_repository(ctx: ApiContext, project_name: str, repository_name: str,
                permission: tuple[str, str]) -> tuple[projects.Project, records.Repository]:
    project = ctx.project(project_name, permission, by_name=True)
    repository = records.get_repository(full_name(project.name, repository_name))
    if repository is None:
        raise harbor_error("NOT_FOUND", f"repository {full_name(project.name, repository_name)} not found")
    return project, repository


def find_artifact(ctx: ApiContext, project_name: str, repository_name: str, reference: str,
              permission: tuple[str, str]) -> tuple[projects.Project, records.Repository, records.Artifact]:
    project, repository = find_repository(ctx, project_name, repository_name, permission)
    artifact = records.get_artifact(repository.name, reference)
    if artifact is None:
        raise harbor_error("NOT_FOUND", f"artifact {full_name(project.name, repository_name)}@{reference[:80]} "
                                        "not found")
    return project, repository, artifact


def _listing(ctx: ApiContext, path: str, prefix: str, visible: Any) -> HttpResponse:
    page = page_of(ctx.request)
    conditions = query_of(ctx.request, ("name",))
    _, descending = sort_of(ctx.request, ("name",), "name")
    project_ids: dict[str, int] = {}

    def keep(repository: records.Repository) -> bool:
        return visible(repository.project_name) and all(c.matches(repository.name) for c in conditions.values())

    selected, total = window(records.iter_repositories(prefix, descending=descending), page, keep)
    for repository in selected:
        if repository.project_name not in project_ids:
            found = projects.get_project(repository.project_name)
            project_ids[repository.project_name] = found.project_id if found else 0
    return respond(200, [repository_json(r, project_ids[r.project_name]) for r in selected],
                   list_headers(ctx.request, path, page, total))


def list_project_repositories(ctx: ApiContext, project_name: str) -> HttpResponse:
    project = ctx.project(project_name, ("repository", "list"), by_name=True)
    return _listing(ctx, f"/api/v2.0/projects/{project_name}/repositories", f"{project.name}/", lambda _: True)


def list_all_repositories(ctx: ApiContext) -> HttpResponse:
    """Every repository the caller may list: all for an admin, else public projects' and their own."""
    if ctx.principal.sysadmin:
        return _listing(ctx, "/api/v2.0/repositories", "", lambda _: True)
    mine = {m.project_name for m in projects.memberships(ctx.principal.user_id)} if ctx.principal.user_id else set()
    public: dict[str, bool] = {}

    def visible(project_name: str) -> bool:
        if project_name in mine:
            return True
        if project_name not in public:
            found = projects.get_project(project_name)
            public[project_name] = bool(found and found.public)
        return public[project_name]

    return _listing(ctx, "/api/v2.0/repositories", "", visible)


def get_repository(ctx: ApiContext, project_name: str, repository_name: str) -> HttpResponse:
    project, repository = find_repository(ctx, project_name, repository_name, ("repository", "read"))
    return respond(200, repository_json(repository, project.project_id))


def update_repository(ctx: ApiContext, project_name: str, repository_name: str) -> HttpResponse:
    _, repository = find_repository(ctx, project_name, repository_name, ("repository", "update"))
    description = ctx.body().get("description", "")
    if not isinstance(description, str) or len(description) > 30_000:
        raise harbor_error("BAD_REQUEST", "description must be a string of at most 30000 characters")
    records.set_description(repository.name, description)
    return respond(200)


def delete_repository(ctx: ApiContext, project_name: str, repository_name: str) -> HttpResponse:
    project, repository = find_repository(ctx, project_name, repository_name, ("repository", "delete"))
    service.delete_repository(project, repository.name, ctx.principal.username)
    return respond(200)


ROUTES = [
    ("GET", "/repositories", list_all_repositories),
    ("GET", "/projects/{project_name}/repositories", list_project_repositories),
    ("GET", "/projects/{project_name}/repositories/{repository_name}", get_repository),
    ("PUT", "/projects/{project_name}/repositories/{repository_name}", update_repository),
    ("DELETE", "/projects/{project_name}/repositories/{repository_name}", delete_repository),
]
