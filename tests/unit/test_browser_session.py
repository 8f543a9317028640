"""Harbor's browser session: `POST /c/login` with the form the portal sends, the `sid` cookie, the CSRF
cookie and `X-Harbor-CSRF-Token`, `GET /c/log_out`, expiry; Basic and bearer callers unchanged."""

from __future__ import annotations

from urllib.parse import urlencode

import boto3

from chalicelib.config import settings
from infra import gateway
from tests.support.client import Client, Reply
from tests.unit.conftest import Configure

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class Browser:
    """Keeps cookies as a browser does and sends back the latest CSRF token on every unsafe request."""

    def __init__(self, client: Client) -> None:
        self.client, self.cookies, self.token = client, {}, ""

    def request(self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None,
                csrf: bool = True) -> Reply:
        sent = dict(headers or {})
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if csrf and self.token and method not in ("GET", "HEAD"):
            sent["X-Harbor-CSRF-Token"] = self.token
        reply = self.client.request(method, path, body=body, headers=sent, auth=None)
        for name, value in reply.headers:
            if name.lower() == "set-cookie":
                cookie, _, _ = value.partition(";")
                key, _, content = cookie.partition("=")
                if "Max-Age=0" in value:
                    self.cookies.pop(key, None)
                else:
                    self.cookies[key] = content
            if name.lower() == "x-harbor-csrf-token":
                self.token = value
        return reply

    def login(self, principal: str = "admin", password: str = "Harbor12345") -> Reply:
        if not self.token:
            self.request("GET", "/api/v2.0/systeminfo")  # the portal's first call hands out the token
        return self.request("POST", "/c/login", urlencode({"principal": principal, "password": password}).encode(),
                            FORM)


def _set_cookies(reply: Reply) -> list[str]:
    return [v for k, v in reply.headers if k.lower() == "set-cookie"]


def test_a_login_sets_a_secure_session_cookie_and_the_api_accepts_it(client: Client) -> None:
    browser = Browser(client)
    first = browser.request("GET", "/api/v2.0/systeminfo")
    assert first.header("X-Harbor-CSRF-Token") and any(c.startswith("__csrf=") for c in _set_cookies(first))

    reply = browser.login()

    assert reply.status == 200
    [session] = [c for c in _set_cookies(reply) if c.startswith("sid=")]
    assert "HttpOnly" in session and "SameSite=Strict" in session and "Secure" not in session  # plain HTTP here
    current = browser.request("GET", "/api/v2.0/users/current")
    assert current.status == 200 and current.json()["username"] == "admin"
    # The table keeps a hash of the session id, never the id itself.
    stored = boto3.resource("dynamodb").Table(settings().table_name).scan()["Items"]
    assert not any(browser.cookies["sid"] in str(item) for item in stored)
    assert any(str(item["PK"]).startswith("SESSION#") for item in stored)


def test_wrong_credentials_and_missing_csrf_tokens_are_refused(client: Client) -> None:
    browser = Browser(client)
    assert browser.login(password="wrong").status == 401
    assert "sid" not in browser.cookies
    no_token = Browser(client)
    no_token.request("GET", "/api/v2.0/systeminfo")
    refused = no_token.request("POST", "/c/login", urlencode({"principal": "admin", "password": "Harbor12345"})
                               .encode(), FORM, csrf=False)
    assert refused.status == 403 and "sid" not in no_token.cookies


def test_a_session_must_send_the_csrf_token_to_change_anything(client: Client) -> None:
    browser = Browser(client)
    assert browser.login().status == 200
    body = b'{"project_name": "from-browser"}'
    json_type = {"Content-Type": "application/json"}

    refused = browser.request("POST", "/api/v2.0/projects", body, json_type, csrf=False)
    forged = browser.request("POST", "/api/v2.0/projects", body, {**json_type, "X-Harbor-CSRF-Token": "Zm9v"},
                             csrf=False)
    accepted = browser.request("POST", "/api/v2.0/projects", body, json_type)

    assert refused.status == forged.status == 403 and refused.error_codes == ["FORBIDDEN"]
    assert accepted.status == 201
    # An API client with Basic credentials is not a browser: no cookie, no CSRF token asked.
    basic = client.request("POST", "/api/v2.0/projects", body=b'{"project_name": "from-basic"}', headers=json_type)
    assert basic.status == 201 and not _set_cookies(basic) and basic.header("X-Harbor-CSRF-Token") is None


def test_a_session_is_served_by_any_instance_and_ends_at_log_out(client: Client) -> None:
    browser = Browser(client)
    assert browser.login().status == 200
    other = Browser(Client(gateway.Gateway(instances=1)))  # another Lambda instance, nothing shared in memory
    other.cookies = dict(browser.cookies)
    assert other.request("GET", "/api/v2.0/users/current").status == 200

    assert browser.request("GET", "/c/log_out").status == 200

    assert "sid" not in browser.cookies
    other_after = other.request("GET", "/api/v2.0/users/current")
    assert other_after.status == 401


def test_an_unused_session_expires(client: Client, configure: Configure) -> None:
    configure(SESSION_TTL_SECONDS="0")
    browser = Browser(client)
    assert browser.login().status == 200
    assert browser.request("GET", "/api/v2.0/users/current").status == 401


def test_cookies_are_secure_under_tls(client: Client) -> None:
    browser = Browser(client)
    tls = {"X-Forwarded-Proto": "https"}  # what API Gateway and CloudFront pass on for HTTPS
    browser.request("GET", "/api/v2.0/systeminfo", headers=tls)
    reply = browser.request("POST", "/c/login", urlencode({"principal": "admin", "password": "Harbor12345"}).encode(),
                            {**FORM, **tls})
    assert reply.status == 200 and all("; Secure" in c for c in _set_cookies(reply))
