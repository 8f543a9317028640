"""Dispatch of /api/v2.0/<path> to the resource handlers, by method and path template.

Path segments are URL-decoded once more here: Harbor clients double-encode repository names
(a/b -> a%252Fb), and API Gateway has decoded the first layer.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import unquote

from chalicelib import configurations as system_configuration
from chalicelib.errors import DomainError, harbor_error
from chalicelib.handlers import browser, errors
from chalicelib.handlers.harbor import (
    artifacts,
    audit_logs,
    configurations,
    exports,
    labels,
    members,
    projects,
    replication,
    repositories,
    robots,
    scanners,
    scans,
    search,
    system,
    system_jobs,
    users,
)
from chalicelib.handlers.harbor.context import ApiContext
from chalicelib.handlers.http import HttpRequest, HttpResponse

Handler = Callable[..., HttpResponse]
ROUTES: list[tuple[str, str, Handler]] = [*system.ROUTES, *users.ROUTES, *projects.ROUTES, *members.ROUTES,
                                          *repositories.ROUTES, *artifacts.ROUTES, *audit_logs.ROUTES,
                                          *labels.ROUTES, *robots.ROUTES, *search.ROUTES,
                                          *scanners.ROUTES, *scans.ROUTES, *exports.ROUTES,
                                          *configurations.ROUTES, *system_jobs.ROUTES,
                                          *replication.ROUTES]
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def _match(template: str, segments: list[str]) -> dict[str, str] | None:
    parts = template.strip("/").split("/")
    if len(parts) != len(segments):
        return None
    params: dict[str, str] = {}
    for part, segment in zip(parts, segments, strict=True):
        if part.startswith("{"):
            params[part[1:-1]] = segment
        elif part != segment:
            return None
    return params


def handle(request: HttpRequest) -> HttpResponse:
    """Answer one API request; a browser's answer, errors included, carries a CSRF token."""
    try:
        response = _dispatch(request)
    except DomainError as error:
        response = errors.answer(request, error)
    return browser.with_csrf(request, response)


def _dispatch(request: HttpRequest) -> HttpResponse:
    segments = [unquote(s) for s in request.path.strip("/").split("/")]
    if request.method not in SAFE_METHODS and \
            (request.method, "/".join(segments)) not in configurations.WRITABLE_WHEN_READ_ONLY:
        system_configuration.require_writable()
    allowed = False
    for method, template, handler in ROUTES:
        params = _match(template, segments)
        if params is None:
            continue
        if method != request.method:
            allowed = True
            continue
        return handler(ApiContext.of(request), **params)
    if allowed:
        raise DomainError("METHOD_NOT_ALLOWED", "method not allowed")
    raise harbor_error("NOT_FOUND", f"no API resource at /api/v2.0/{request.path[:200]}")
