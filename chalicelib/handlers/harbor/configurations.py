"""/configurations (system admins): the items chalicelib/configurations.py honours."""

from __future__ import annotations

from chalicelib import configurations
from chalicelib.handlers.harbor.context import ApiContext, respond
from chalicelib.handlers.http import HttpResponse


def get_configurations(ctx: ApiContext) -> HttpResponse:
    ctx.require_sysadmin()
    return respond(200, configurations.shown())


def put_configurations(ctx: ApiContext) -> HttpResponse:
    ctx.require_sysadmin()
    configurations.update(ctx.body())
    return respond(200)


# Exempt from read-only mode (as in Harbor): it is how read-only mode is turned off.
ROUTES = [("GET", "/configurations", get_configurations), ("PUT", "/configurations", put_configurations)]
WRITABLE_WHEN_READ_ONLY = {("PUT", "configurations")}
