"""The browser's side of the API (Harbor's portal): `/c/login` and `/c/log_out`, the `sid` session cookie
and the CSRF cookie and header (chalicelib/auth/sessions.py says why each is there). Requests with an
Authorization header are API clients: they get no cookie and no CSRF check."""

from __future__ import annotations

from urllib.parse import parse_qs

from chalicelib.auth import sessions
from chalicelib.auth.access import ANONYMOUS, Principal
from chalicelib.errors import DomainError
from chalicelib.handlers.http import HttpRequest, HttpResponse

SESSION_COOKIE = "sid"
CSRF_COOKIE = "__csrf"
CSRF_HEADER = "X-Harbor-CSRF-Token"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def cookies(request: HttpRequest) -> dict[str, str]:
    found: dict[str, str] = {}
    for header in request.header_values("cookie"):
        for part in header.split(";"):
            name, _, value = part.strip().partition("=")
            if name and name not in found:
                found[name] = value
    return found


def is_browser(request: HttpRequest) -> bool:
    return request.header("authorization") is None


def principal(request: HttpRequest) -> Principal:
    """The session's user (anonymous without a live session). A request that changes something must
    carry the CSRF header: 403 otherwise, as Harbor's."""
    session_id = cookies(request).get(SESSION_COOKIE)
    if not session_id:
        return ANONYMOUS
    if request.method not in SAFE_METHODS:
        require_csrf(request)
    return sessions.principal(session_id)


def require_csrf(request: HttpRequest) -> None:
    if not sessions.csrf_valid(cookies(request).get(CSRF_COOKIE), request.header(CSRF_HEADER)):
        raise DomainError("FORBIDDEN", "CSRF token invalid")


def _cookie(request: HttpRequest, name: str, value: str, max_age: int | None = None) -> str:
    """HttpOnly, SameSite=Strict, Secure when the registry is served over TLS."""
    parts = [f"{name}={value}", "Path=/", "HttpOnly", "SameSite=Strict"]
    if request.base_url.startswith("https://"):
        parts.append("Secure")
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    return "; ".join(parts)


def with_csrf(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """A browser's answer carries a fresh CSRF token (and the cookie behind it when it had none)."""
    if not is_browser(request):
        return response
    secret = cookies(request).get(CSRF_COOKIE)
    if secret is None or not sessions.csrf_secret_well_formed(secret):
        secret = sessions.new_csrf_secret()
        _add_cookie(response, _cookie(request, CSRF_COOKIE, secret))
    response.headers[CSRF_HEADER] = sessions.csrf_token(secret)
    return response


def _add_cookie(response: HttpResponse, cookie: str) -> None:
    existing = response.headers.get("Set-Cookie")
    response.headers["Set-Cookie"] = [*(existing if isinstance(existing, list) else [existing] if existing else []),
                                      cookie]


def login(request: HttpRequest) -> HttpResponse:
    """Harbor's `POST /c/login`: 200 and the session cookie, or 401 with no body."""
    require_csrf(request)
    form = parse_qs(request.body.decode(errors="replace"))
    principal_name, password = (form.get("principal") or [""])[0], (form.get("password") or [""])[0]
    try:
        session_id = sessions.login(principal_name, password)
    except DomainError:
        return with_csrf(request, HttpResponse(401))
    response = HttpResponse(200)
    _add_cookie(response, _cookie(request, SESSION_COOKIE, session_id))
    return with_csrf(request, response)


def log_out(request: HttpRequest) -> HttpResponse:
    """Harbor's `GET /c/log_out`: the session ends here and in the browser."""
    session_id = cookies(request).get(SESSION_COOKIE)
    if session_id:
        sessions.logout(session_id)
    response = HttpResponse(200)
    _add_cookie(response, _cookie(request, SESSION_COOKIE, "", max_age=0))
    return with_csrf(request, response)
