"""/service/token: Harbor's token service, which docker and every OCI client call after a 401."""

from __future__ import annotations

import json

from chalicelib.auth import tokens
from chalicelib.auth.service import authenticate, grant, token_scopes
from chalicelib.config import settings
from chalicelib.errors import DomainError, Unauthorized
from chalicelib.handlers.http import HttpRequest, HttpResponse


def token_response(request: HttpRequest) -> HttpResponse:
    """GET /service/token: a bearer token for the requested scopes with what the caller holds."""
    service = request.param("service")
    if service is not None and service != settings().token_service:
        raise DomainError("BAD_REQUEST", f"Unable to handle service: {service[:100]}")
    principal = authenticate(request.header("authorization"))
    if principal.granted is not None:
        raise Unauthorized("a token cannot be exchanged for another token", basic=True)
    scopes = token_scopes(request.params("scope"))
    if principal.anonymous and not scopes:
        # `docker login` with wrong credentials (or a disabled robot): Harbor's empty 401, which docker
        # shows as "unauthorized: authentication required".
        return HttpResponse(401, {"Www-Authenticate": 'Basic realm="harbor"'})
    access = grant(principal, scopes)
    return HttpResponse(200, {"Content-Type": "application/json"},
                        json.dumps(tokens.issue(principal.username, access)))
