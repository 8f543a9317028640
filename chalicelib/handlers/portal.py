"""The portal's files (chalicelib/portal/), served through the API: `/` and every `/harbor/...` screen
get the page (the screens are drawn by its script), `/static/<file>` the script and styles. Each answer
carries a strict Content-Security-Policy: only this origin's scripts, styles and calls, no inline script,
no framing."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from chalicelib.handlers.http import HttpRequest, HttpResponse

FILES = Path(__file__).resolve().parent.parent / "portal"
_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
          ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "connect-src 'self'; font-src 'self'; form-action 'self'; base-uri 'none'; "
                               "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


@cache
def _files() -> dict[str, tuple[str, str, str]]:
    """name -> (content type, text, ETag): what the directory holds, read once per instance. Only these
    names are ever served, so no path from a request reaches the file system."""
    return {path.name: (_TYPES[path.suffix], text, f'"{hashlib.sha256(text.encode()).hexdigest()[:32]}"')
            for path in FILES.iterdir() if path.suffix in _TYPES for text in [path.read_text()]}


def _file(request: HttpRequest, name: str) -> HttpResponse:
    """The file, revalidated on each use (`no-cache`: a new deployment is seen at once); a browser that
    holds the current version gets a bodiless 304."""
    found = _files().get(name)
    if found is None:
        return HttpResponse(404, {"Content-Type": "text/plain; charset=utf-8", **SECURITY_HEADERS}, "not found")
    content_type, text, etag = found
    headers = {"Cache-Control": "no-cache", "ETag": etag, **SECURITY_HEADERS}
    if etag in (request.header("if-none-match") or "").replace("W/", "").split(", "):
        return HttpResponse(304, headers, "")
    return HttpResponse(200, {"Content-Type": content_type, **headers}, text)


def page(request: HttpRequest) -> HttpResponse:
    """The page every screen starts from (it asks the API who is logged in)."""
    return _file(request, "index.html")


def static(request: HttpRequest) -> HttpResponse:
    return _file(request, request.path)
