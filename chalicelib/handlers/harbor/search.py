"""/search: projects and repositories whose name contains the term, among those the caller may see."""

from __future__ import annotations

from itertools import islice

from chalicelib import projects
from chalicelib.errors import DomainError
from chalicelib.handlers.harbor.context import ApiContext, respond
from chalicelib.handlers.harbor.projects import project_json
from chalicelib.handlers.http import HttpResponse
from chalicelib.registry import records

MAX_RESULTS = 100  # per kind: a search box, not an export


def search(ctx: ApiContext) -> HttpResponse:
    term = (ctx.request.param("q") or "").strip().lower()
    if not term:
        raise DomainError("UNPROCESSABLE_ENTITY", "q in query is required")
    roles = projects.roles_by_name(ctx.principal.user_id)
    visible = {p.name: p for p in projects.iter_projects()
               if ctx.principal.sysadmin or p.public or p.name in roles}
    found_projects = islice((p for name, p in visible.items() if term in name), MAX_RESULTS)
    found_repositories = islice((r for r in records.iter_repositories()
                                 if r.project_name in visible and term in r.name.lower()), MAX_RESULTS)
    return respond(200, {
        "project": [project_json(ctx, p, roles.get(p.name, 0)) for p in found_projects],
        "repository": [{"project_id": visible[r.project_name].project_id, "project_name": r.project_name,
                        "project_public": visible[r.project_name].public, "repository_name": r.name,
                        "pull_count": r.pull_count, "artifact_count": r.artifact_count} for r in found_repositories],
        "chart": [],
    })


ROUTES = [("GET", "/search", search)]
