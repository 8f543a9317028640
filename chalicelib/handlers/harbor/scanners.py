"""/scanners (system admin) and /projects/{p}/scanner (semantics-2.6.md 2.2)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from chalicelib import clock
from chalicelib.errors import DomainError, harbor_error
from chalicelib.handlers.harbor.context import ApiContext, boolean_field, respond
from chalicelib.handlers.harbor.paging import list_headers, page_of, query_of, window
from chalicelib.handlers.http import HttpResponse
from chalicelib.scan import adapter, scanners, trivy

_AUTH_TYPES = ("", "Basic", "Bearer", "X-ScannerAdapter-API-Key")


def registration_json(r: scanners.Registration, default_uuid: str | None) -> dict[str, Any]:
    """The credential is write-only: it is never returned once set."""
    return {"uuid": r.uuid, "name": r.name, "description": r.description, "url": r.url, "disabled": r.disabled,
            "is_default": r.uuid == default_uuid, "auth": r.auth, "access_credential": "",
            "skip_certVerify": r.skip_cert_verify, "use_internal_addr": r.use_internal_addr,
            "create_time": r.create_time, "update_time": r.update_time, "adapter": r.adapter_name,
            "vendor": r.vendor, "version": r.version, "health": ""}


def _text(body: dict[str, Any], name: str, default: str = "") -> str:
    value = body.get(name, default)
    if value is None:
        return default
    if not isinstance(value, str):
        raise harbor_error("BAD_REQUEST", f"{name} must be a string")
    return value


def _settings(body: dict[str, Any]) -> tuple[str, str, str, str]:
    name, url = _text(body, "name").strip(), _text(body, "url").strip()
    auth, credential = _text(body, "auth"), _text(body, "access_credential")
    if not name or len(name) > 128:
        raise harbor_error("BAD_REQUEST", "name is required, at most 128 characters")
    if not url.startswith(("http://", "https://")):
        raise harbor_error("BAD_REQUEST", f"url must be an http(s) URL: {url[:200]}")
    if auth not in _AUTH_TYPES:
        raise harbor_error("BAD_REQUEST", f"auth must be one of Basic, Bearer, X-ScannerAdapter-API-Key: {auth[:40]}")
    return name, url, auth, credential


def _adapter_metadata(url: str, auth: str, credential: str, skip_verify: bool) -> dict[str, Any]:
    try:
        return adapter.metadata(adapter.Endpoint(url, auth, credential, skip_verify))
    except adapter.AdapterError as error:
        raise harbor_error("BAD_REQUEST", str(error)) from error


def _registration(ctx: ApiContext, registration_id: str) -> scanners.Registration:
    ctx.require_sysadmin()
    found = scanners.get(registration_id)
    if found is None:
        raise harbor_error("NOT_FOUND", f"scanner registration {registration_id[:64]} not found")
    return found


def list_scanners(ctx: ApiContext) -> HttpResponse:
    ctx.require_sysadmin()
    page = page_of(ctx.request)
    conditions = query_of(ctx.request, ("name", "description", "url"))
    default = scanners.default_uuid()

    def keep(r: scanners.Registration) -> bool:
        return all(c.matches(getattr(r, k)) for k, c in conditions.items())

    selected, total = window(sorted(scanners.list_all(), key=lambda r: r.create_time), page, keep)
    return respond(200, [registration_json(r, default) for r in selected],
                   list_headers(ctx.request, "/api/v2.0/scanners", page, total))


def create_scanner(ctx: ApiContext) -> HttpResponse:
    """The adapter's /metadata is read and validated first: a malformed adapter is refused (400)."""
    ctx.require_sysadmin()
    body = ctx.body()
    name, url, auth, credential = _settings(body)
    skip_verify = boolean_field(body, "skip_certVerify", False)
    document = _adapter_metadata(url, auth, credential, skip_verify)
    registration = scanners.create(
        name, url, description=_text(body, "description"), auth=auth, access_credential=credential,
        skip_cert_verify=skip_verify, use_internal_addr=boolean_field(body, "use_internal_addr", False),
        disabled=boolean_field(body, "disabled", False), scanner=document)
    return respond(201, headers={"Location": f"/api/v2.0/scanners/{registration.uuid}"})


def ping_scanner(ctx: ApiContext) -> HttpResponse:
    ctx.require_sysadmin()
    body = ctx.body()
    _, url, auth, credential = _settings(body)
    _adapter_metadata(url, auth, credential, False)
    return respond(200)


def get_scanner(ctx: ApiContext, registration_id: str) -> HttpResponse:
    return respond(200, registration_json(_registration(ctx, registration_id), scanners.default_uuid()))


def update_scanner(ctx: ApiContext, registration_id: str) -> HttpResponse:
    old = _registration(ctx, registration_id)
    if old.immutable:
        raise DomainError("FORBIDDEN", f"the scanner {old.name} is built in and cannot be changed")
    body = ctx.body()
    name, url, auth, credential = _settings(body)
    skip_verify = boolean_field(body, "skip_certVerify", old.skip_cert_verify)
    # A credential left out keeps the stored one (it is never shown, so clients cannot send it back).
    credential = credential if "access_credential" in body else old.credential()
    document = _adapter_metadata(url, auth, credential, skip_verify)
    info = document["scanner"]
    new = replace(old, name=name, url=url, description=_text(body, "description", old.description), auth=auth,
                  access_credential=credential, skip_cert_verify=skip_verify,
                  use_internal_addr=boolean_field(body, "use_internal_addr", old.use_internal_addr),
                  disabled=boolean_field(body, "disabled", old.disabled), update_time=clock.iso(),
                  adapter_name=info["name"],
                  vendor=info["vendor"], version=info["version"], produces=adapter.produced_types(document))
    scanners.update(old, new)
    return respond(200)


def delete_scanner(ctx: ApiContext, registration_id: str) -> HttpResponse:
    registration = _registration(ctx, registration_id)
    if registration.immutable:
        raise DomainError("FORBIDDEN", f"the scanner {registration.name} is built in and cannot be deleted")
    if registration.uuid == scanners.default_uuid():
        raise DomainError("FORBIDDEN", f"the scanner {registration.name} is the default: set another first")
    scanners.delete(registration)
    return respond(200, registration_json(registration, None))


def set_default_scanner(ctx: ApiContext, registration_id: str) -> HttpResponse:
    registration = _registration(ctx, registration_id)
    if not boolean_field(ctx.body(), "is_default", False):
        raise harbor_error("BAD_REQUEST", "only is_default=true is supported: set another scanner as default")
    scanners.set_default(registration)
    return respond(200)


def scanner_metadata(ctx: ApiContext, registration_id: str) -> HttpResponse:
    registration = _registration(ctx, registration_id)
    try:
        return respond(200, scanners.metadata_of(registration, trivy.VERSION))
    except adapter.AdapterError as error:
        raise DomainError("INTERNAL_SERVER_ERROR", str(error)) from error


def get_project_scanner(ctx: ApiContext, project_name_or_id: str) -> HttpResponse:
    project = ctx.project(project_name_or_id, ("scanner", "read"))
    registration = scanners.of_project(project)
    if registration is None:
        raise harbor_error("NOT_FOUND", f"no scanner is configured for project {project.name}")
    return respond(200, registration_json(registration, scanners.default_uuid()))


def set_project_scanner(ctx: ApiContext, project_name_or_id: str) -> HttpResponse:
    project = ctx.project(project_name_or_id, ("scanner", "create"))
    wanted = ctx.body().get("uuid")
    registration = scanners.get(wanted) if isinstance(wanted, str) and wanted else None
    if registration is None:
        raise harbor_error("BAD_REQUEST", f"scanner registration {str(wanted)[:64]} not found")
    scanners.set_for_project(project, registration)
    return respond(200)


def project_scanner_candidates(ctx: ApiContext, project_name_or_id: str) -> HttpResponse:
    ctx.project(project_name_or_id, ("scanner", "create"))
    page = page_of(ctx.request)
    default = scanners.default_uuid()
    selected, total = window(sorted(scanners.list_all(), key=lambda r: r.create_time), page, lambda r: True)
    path = f"/api/v2.0/projects/{project_name_or_id}/scanner/candidates"
    return respond(200, [registration_json(r, default) for r in selected], list_headers(ctx.request, path, page, total))


ROUTES = [
    ("GET", "/scanners", list_scanners), ("POST", "/scanners", create_scanner),
    ("POST", "/scanners/ping", ping_scanner),
    ("GET", "/scanners/{registration_id}", get_scanner), ("PUT", "/scanners/{registration_id}", update_scanner),
    ("DELETE", "/scanners/{registration_id}", delete_scanner),
    ("PATCH", "/scanners/{registration_id}", set_default_scanner),
    ("GET", "/scanners/{registration_id}/metadata", scanner_metadata),
    ("GET", "/projects/{project_name_or_id}/scanner", get_project_scanner),
    ("PUT", "/projects/{project_name_or_id}/scanner", set_project_scanner),
    ("GET", "/projects/{project_name_or_id}/scanner/candidates", project_scanner_candidates),
]
