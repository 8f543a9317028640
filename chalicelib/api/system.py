"""/health, /ping, /systeminfo."""

from __future__ import annotations

from chalicelib import clock
from chalicelib.api.context import ApiContext, respond
from chalicelib.http import HttpResponse

HARBOR_VERSION = "v2.6.0-serverless"
COMPONENTS = ("core", "database", "registry", "jobservice", "redis", "portal")


def health(ctx: ApiContext) -> HttpResponse:
    # Every piece is a managed service; the API answering means core and its stores answer.
    return respond(200, {"status": "healthy",
                         "components": [{"name": name, "status": "healthy"} for name in COMPONENTS]})


def ping(ctx: ApiContext) -> HttpResponse:
    return HttpResponse(200, {"Content-Type": "text/plain; charset=utf-8"}, "Pong")


def systeminfo(ctx: ApiContext) -> HttpResponse:
    info: dict[str, object] = {"auth_mode": "db_auth", "harbor_version": HARBOR_VERSION, "self_registration": False,
                               "has_ca_root": False, "read_only": False, "with_chartmuseum": False,
                               "with_notary": False, "notification_enable": False}
    if not ctx.principal.anonymous:  # Harbor shows the rest to authenticated users only
        host = ctx.request.base_url.split("://", 1)[-1]
        info |= {"current_time": clock.iso(), "external_url": ctx.request.base_url, "registry_url": host,
                 "project_creation_restriction": "everyone", "registry_storage_provider_name": "s3"}
    return respond(200, info)


ROUTES = [("GET", "/health", health), ("GET", "/ping", ping), ("GET", "/systeminfo", systeminfo)]
