"""/health, /ping, /systeminfo."""

from __future__ import annotations

from chalicelib import allowlists, clock
from chalicelib import health as health_of
from chalicelib.handlers.harbor.context import ApiContext, respond
from chalicelib.handlers.http import HttpResponse

HARBOR_VERSION = "v2.6.0-serverless"


def health(ctx: ApiContext) -> HttpResponse:
    return respond(200, health_of.report())


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


def get_cve_allowlist(ctx: ApiContext) -> HttpResponse:
    """Readable by every logged-in user (swagger: getSystemCVEAllowlist)."""
    ctx.require_authenticated()
    return respond(200, allowlists.to_json(allowlists.get()))


def put_cve_allowlist(ctx: ApiContext) -> HttpResponse:
    """Overwritten by system admins only."""
    ctx.require_sysadmin()
    allowlists.put(None, *allowlists.parse(ctx.body()))
    return respond(200)


ROUTES = [("GET", "/health", health), ("GET", "/ping", ping), ("GET", "/systeminfo", systeminfo),
          ("GET", "/system/CVEAllowlist", get_cve_allowlist), ("PUT", "/system/CVEAllowlist", put_cve_allowlist)]
