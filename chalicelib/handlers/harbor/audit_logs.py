"""/audit-logs and /projects/{p}/logs (semantics 3.4): newest first, q, sort, paging."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import islice
from typing import Any

from chalicelib import projects
from chalicelib.audit import log
from chalicelib.auth.access import ROLE_PERMISSIONS
from chalicelib.handlers.harbor.context import ApiContext, respond
from chalicelib.handlers.harbor.paging import Condition, Page, list_headers, page_of, query_of, sort_of, window
from chalicelib.handlers.http import HttpResponse

QUERY_KEYS = ("username", "operation", "resource_type", "resource", "op_time")


def record_json(record: log.AuditRecord) -> dict[str, Any]:
    return {"id": record.id, "username": record.username, "resource": record.resource,
            "resource_type": record.resource_type, "operation": record.operation, "op_time": record.op_time}


def _op_time_value(value: Any) -> Any:
    """q gives times as '2022-09-01 00:00:00'; records hold '2022-09-01T00:00:00.000Z'."""
    return value.replace(" ", "T") if isinstance(value, str) else value


def _matcher(conditions: dict[str, Condition]) -> Callable[[log.AuditRecord], bool]:
    normalised = {key: Condition(c.kind, tuple(_op_time_value(v) if key == "op_time" else v for v in c.values))
                  for key, c in conditions.items()}
    return lambda record: all(c.matches(getattr(record, key)) for key, c in normalised.items())


def _answer(ctx: ApiContext, path: str, records: Callable[[int], Iterator[log.AuditRecord]],
            count: Callable[[], int], page: Page, conditions: dict[str, Condition]) -> HttpResponse:
    """`records(read_ahead)` streams the log; unfiltered, only up to the page is read and the total comes
    from the counters; filtered, the stream is matched to the end to count."""
    if conditions:
        selected, total = window(records(500), page, _matcher(conditions))
    else:
        needed = page.offset + page.size
        selected, _ = window(islice(records(min(needed, 500)), needed), page, lambda _: True)
        total = count()
    return respond(200, [record_json(r) for r in selected], list_headers(ctx.request, path, page, total))


def _request(ctx: ApiContext) -> tuple[Page, dict[str, Condition], bool]:
    page = page_of(ctx.request)
    conditions = query_of(ctx.request, QUERY_KEYS)
    _, descending = sort_of(ctx.request, ("op_time",), "-op_time")
    return page, conditions, descending


def list_all(ctx: ApiContext) -> HttpResponse:
    """Admins see everything; others the logs of projects where they hold log:list."""
    ctx.require_authenticated()
    page, conditions, descending = _request(ctx)
    if ctx.principal.sysadmin:
        return _answer(ctx, "/api/v2.0/audit-logs", lambda n: log.iter_all(descending=descending, page_size=n),
                       log.count_all, page, conditions)
    readable = [m.project_id for m in projects.memberships(ctx.principal.user_id or 0)
                if ("log", "list") in ROLE_PERMISSIONS[m.role_id]]
    return _answer(ctx, "/api/v2.0/audit-logs",
                   lambda n: log.iter_projects(readable, descending=descending, page_size=n),
                   lambda: log.count_projects(readable), page, conditions)


def list_project(ctx: ApiContext, project_name: str) -> HttpResponse:
    project = ctx.project(project_name, ("log", "list"), by_name=True)
    page, conditions, descending = _request(ctx)
    return _answer(ctx, f"/api/v2.0/projects/{project_name}/logs",
                   lambda n: log.iter_projects([project.project_id], descending=descending, page_size=n),
                   lambda: log.count_projects([project.project_id]), page, conditions)


ROUTES = [("GET", "/audit-logs", list_all), ("GET", "/projects/{project_name}/logs", list_project)]
