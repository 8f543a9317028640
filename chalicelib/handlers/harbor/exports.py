"""/export/cve: Harbor 2.6's CVE export API (semantics-2.6.md 1.1-1.5)."""

from __future__ import annotations

from chalicelib import inputs, projects
from chalicelib.auth.access import ROLE_PERMISSIONS, project_permissions
from chalicelib.errors import DomainError, harbor_error
from chalicelib.export import service
from chalicelib.export.criteria import parse
from chalicelib.handlers.harbor.context import ApiContext, respond
from chalicelib.handlers.http import HttpResponse
from chalicelib.scan.severity import GENERIC

_EXPORT = ("export-cve", "create")


def _exportable(ctx: ApiContext) -> list[int]:
    """Every project the caller may export from (an empty `projects`: beyond Harbor, which takes one)."""
    if ctx.principal.sysadmin:
        return [p.project_id for p in projects.iter_projects()]
    return sorted(m.project_id for m in projects.memberships(ctx.principal.user_id or 0)
                  if _EXPORT in ROLE_PERMISSIONS.get(m.role_id, frozenset()))


def export_cve(ctx: ApiContext) -> HttpResponse:
    scan_type = ctx.request.header("x-scan-data-type")
    if scan_type is None:
        raise DomainError("UNPROCESSABLE_ENTITY", "X-Scan-Data-Type in header is required")
    if scan_type != GENERIC:
        raise harbor_error("BAD_REQUEST", f"Unsupported MIME type : {scan_type[:200]}")
    criteria, job_name = parse(ctx.body())
    chosen = []
    for project_id in criteria.project_ids:  # existence first, then permission (Harbor's order)
        project = projects.get_project_by_id(project_id)
        if project is None:
            raise harbor_error("NOT_FOUND", f"project {project_id} not found")
        chosen.append(project)
    ctx.require_authenticated()
    if ctx.principal.robot:
        raise DomainError("FORBIDDEN", "a robot account cannot export CVEs: an export belongs to a user, "
                                        "who alone may download it; use a user's credentials")
    for project in chosen:
        ctx.require(project, _EXPORT)
    if not chosen:
        criteria = service.scope(criteria, _exportable(ctx))
    execution = service.start(ctx.principal.user_id or 0, ctx.principal.username, criteria, job_name)
    return respond(200, {"id": execution.execution_id})


def _execution(ctx: ApiContext, execution_id: str) -> service.Execution:
    """The execution, if it exists and the caller may read export-cve in all its projects."""
    ctx.require_authenticated()
    found = service.get(number) if (number := inputs.decimal(execution_id)) is not None else None
    if found is None or found.downloaded:
        raise DomainError("NOT_FOUND", f"execution {execution_id[:20]} not found")
    for project_id in found.project_ids:
        project = projects.get_project_by_id(project_id)
        if project is not None:
            ctx.require(project, ("export-cve", "read"))
    return found


def get_execution(ctx: ApiContext, execution_id: str) -> HttpResponse:
    found = _execution(ctx, execution_id)
    if found.user_name != ctx.principal.username:  # the owner only, system admins included
        raise harbor_error("FORBIDDEN")
    return respond(200, found.json())


def list_executions(ctx: ApiContext) -> HttpResponse:
    """The caller's own executions, newest first (Harbor: not paginated)."""
    ctx.require_authenticated()
    projects_by_id: dict[int, projects.Project | None] = {}

    def readable(execution: service.Execution) -> bool:
        for project_id in execution.project_ids:
            if project_id not in projects_by_id:
                projects_by_id[project_id] = projects.get_project_by_id(project_id)
            project = projects_by_id[project_id]
            if project is not None and ("export-cve", "read") not in project_permissions(ctx.principal, project):
                return False
        return True

    mine = [e.json() for e in service.of_user(ctx.principal.username) if readable(e)]
    return respond(200, {"items": mine})


def download(ctx: ApiContext, execution_id: str) -> HttpResponse:
    found = _execution(ctx, execution_id)
    if not found.file_present:
        return HttpResponse(404, {}, "")
    if found.user_name != ctx.principal.username:
        return HttpResponse(403, {}, "")
    taken = service.take(found)
    if taken is None:
        return HttpResponse(404, {}, "")
    if taken.url:
        return HttpResponse(302, {"Location": taken.url}, "")
    disposition = f'attachment; filename="scandata_export_{found.execution_id}.csv"'
    return HttpResponse(200, {"Content-Type": "text/csv", "Content-Disposition": disposition}, taken.body or "")


ROUTES = [
    ("POST", "/export/cve", export_cve),
    ("GET", "/export/cve/execution/{execution_id}", get_execution),
    ("GET", "/export/cve/executions", list_executions),
    ("GET", "/export/cve/download/{execution_id}", download),
]
