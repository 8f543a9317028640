"""The portal's files as the API serves them: the page at `/` and at every `/harbor/...` screen, its
script and styles, each with a strict Content-Security-Policy; nothing in them loads from another host
or runs inline."""

from __future__ import annotations

import re

from chalicelib.handlers.portal import FILES
from tests.support.client import Client

SVG_NAMESPACE = "http://www.w3.org/2000/svg"  # a name for createElementNS, never fetched


def test_the_page_is_served_at_the_root_and_at_every_screen(client: Client) -> None:
    for path in ("/", "/harbor/projects", "/harbor/projects/1/repositories"):
        reply = client.request("GET", path, auth=None)
        assert reply.status == 200, path
        assert reply.header("Content-Type") == "text/html; charset=utf-8"
        assert b'<script type="module" src="/static/app.js">' in reply.body
        policy = reply.header("Content-Security-Policy") or ""
        assert "script-src 'self'" in policy and "default-src 'none'" in policy and "unsafe-inline" not in policy
        assert "frame-ancestors 'none'" in policy and reply.header("X-Content-Type-Options") == "nosniff"


def test_the_script_and_styles_are_served_and_nothing_else(client: Client) -> None:
    script = client.request("GET", "/static/app.js", auth=None)
    styles = client.request("GET", "/static/app.css", auth=None)
    assert script.status == styles.status == 200
    assert script.header("Content-Type") == "text/javascript; charset=utf-8"
    assert styles.header("Content-Type") == "text/css; charset=utf-8"
    for module in re.findall(r'from "\./([a-z]+\.js)"', script.body.decode()):  # what app.js imports
        assert client.request("GET", f"/static/{module}", auth=None).status == 200, module
    etag = script.header("ETag") or ""
    assert script.header("Cache-Control") == "no-cache" and etag
    again = client.request("GET", "/static/app.js", auth=None, headers={"If-None-Match": etag})
    assert again.status == 304 and again.body == b"" and again.header("ETag") == etag
    for path in ("/static/missing.js", "/static/..%2Fhandlers%2Fportal.py", "/static/%2e%2e/app.py"):
        assert client.request("GET", path, auth=None).status == 404, path


def test_no_file_loads_from_another_host_or_runs_inline() -> None:
    for path in FILES.iterdir():
        text = path.read_text().replace(SVG_NAMESPACE, "")
        assert not re.search(r"https?://", text), path  # fonts, scripts and styles are all our own
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), path  # no inline script
        assert not re.search(r"\son[a-z]+\s*=", text), path  # no inline event handlers
        assert "innerHTML" not in text and "insertAdjacentHTML" not in text, path  # user strings stay text
