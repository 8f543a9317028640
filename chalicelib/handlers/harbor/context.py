"""What every Harbor API handler needs: the caller, access checks with Harbor's statuses, JSON answers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from chalicelib import inputs
from chalicelib.auth import service as auth
from chalicelib.auth.access import ANONYMOUS, Permission, Principal, project_permissions, project_role
from chalicelib.errors import DomainError, harbor_error
from chalicelib.handlers import browser
from chalicelib.handlers.http import JSON, HttpRequest, HttpResponse
from chalicelib.projects import Project, get_project, get_project_by_id


@dataclass(frozen=True)
class ApiContext:
    request: HttpRequest
    principal: Principal

    @classmethod
    def of(cls, request: HttpRequest) -> ApiContext:
        """The caller: a browser by its session cookie (CSRF-checked), an API client by Basic credentials
        (registry tokens are for /v2/ only)."""
        if browser.is_browser(request):
            return cls(request, browser.principal(request))
        principal = auth.authenticate(request.header("authorization"))
        return cls(request, ANONYMOUS if principal.granted is not None else principal)

    def body(self) -> dict[str, Any]:
        """The JSON object sent; 400 when the body is missing or not an object."""
        try:
            document = inputs.load_json(self.request.body or b"null")
        except inputs.InvalidInput as error:
            raise harbor_error("BAD_REQUEST", str(error)) from error
        except ValueError as error:  # UnicodeDecodeError too
            raise harbor_error("BAD_REQUEST", "the request body is not valid JSON") from error
        if not isinstance(document, dict):
            raise harbor_error("BAD_REQUEST", "the request body must be a JSON object")
        return document

    def require_authenticated(self) -> None:
        if self.principal.anonymous:
            raise harbor_error("UNAUTHORIZED")

    def require_sysadmin(self) -> None:
        self.require_authenticated()
        if not self.principal.sysadmin:
            raise DomainError("FORBIDDEN", f"forbidden: {self.principal.username}")

    def _denied(self) -> DomainError:
        return harbor_error("UNAUTHORIZED" if self.principal.anonymous else "FORBIDDEN")

    def project(self, name_or_id: str, permission: Permission, *, by_name: bool = False) -> Project:
        """The project named by a path (name, or id unless X-Is-Resource-Name), if the caller holds
        `permission` in it. As in Harbor, a project the caller may not see answers 401/403, not 404."""
        is_name = by_name or (self.request.header("x-is-resource-name") or "").lower() == "true"
        project_id = None if is_name else inputs.decimal(name_or_id)
        project = get_project(name_or_id) if project_id is None else get_project_by_id(project_id)
        if project is None:
            if self.principal.sysadmin:
                raise harbor_error("NOT_FOUND", f"project {name_or_id} not found")
            raise self._denied()
        self.require(project, permission)
        return project

    def require(self, project: Project, permission: Permission) -> None:
        if permission not in project_permissions(self.principal, project):
            raise self._denied()

    def role(self, project: Project) -> int | None:
        return project_role(self.principal, project)


def respond(status: int, body: Any = None, headers: dict[str, str] | None = None) -> HttpResponse:
    """A JSON answer. An empty answer carries no Content-Type, as Harbor's (go-swagger writes none)."""
    if body is None:
        return HttpResponse(status, dict(headers or {}), "")
    return HttpResponse(status, {"Content-Type": JSON, **(headers or {})}, json.dumps(body))


def boolean_field(body: dict[str, Any], name: str, default: bool) -> bool:
    """A field the swagger types boolean: absent gives the default, anything but true/false is a 400
    (a string "false" must never read as true)."""
    value = body.get(name, default)
    if not isinstance(value, bool):
        raise harbor_error("BAD_REQUEST", f"{name} must be a boolean")
    return value


def bool_param(request: HttpRequest, name: str) -> bool | None:
    raw = request.param(name)
    if raw is None or raw == "":
        return None
    if raw.lower() in ("true", "1"):
        return True
    if raw.lower() in ("false", "0"):
        return False
    raise DomainError("UNPROCESSABLE_ENTITY", f"{name} in query must be of type bool: \"{raw[:20]}\"")


def path_int(raw: str, name: str = "id") -> int:
    """An integer id from the path; Harbor's 422 otherwise (go-swagger's message)."""
    value = inputs.decimal(raw)
    if value is None:
        raise DomainError("UNPROCESSABLE_ENTITY", f"{name} in path must be of type int64: \"{raw[:20]}\"")
    return value
