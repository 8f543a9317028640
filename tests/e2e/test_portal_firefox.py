"""The portal in Firefox (Debian's ESR, over WebDriver BiDi): log in with the keyboard, then a scanned
image's repository with its severity bar and its artifact's vulnerabilities, with nothing refused by
the Content-Security-Policy. The chromium tests (test_portal.py) cover the screens' actions."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.e2e.conftest import push, wait_for_report
from tests.e2e.test_portal import SCREENSHOTS
from tests.support.firefox import Firefox
from tests.support.stack import ADMIN, Stack
from tests.support.vulnerable import ALPINE_318_FINDINGS, alpine_318

ENTER, TAB = "\ue007", "\ue004"


@pytest.fixture(scope="module")
def firefox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Firefox]:
    browser = Firefox(tmp_path_factory.mktemp("firefox-profile"))
    try:
        yield browser
    finally:
        browser.close()


def _text(selector: str) -> str:
    return f"(document.querySelector({json.dumps(selector)}) || {{}}).textContent || ''"


def test_the_portal_in_firefox(stack: Stack, firefox: Firefox, tmp_path: Path) -> None:
    assert requests.post(f"{stack.url}/api/v2.0/projects", json={"project_name": "in-firefox"}, auth=ADMIN,
                         timeout=30).status_code == 201
    push(stack, tmp_path, alpine_318(), "in-firefox/alpine:3.18")
    path = "/projects/in-firefox/repositories/alpine/artifacts/3.18"
    assert requests.post(f"{stack.url}/api/v2.0{path}/scan", auth=ADMIN, timeout=30).status_code == 202
    wait_for_report(stack, path)
    project_id = requests.get(f"{stack.url}/api/v2.0/projects/in-firefox", auth=ADMIN, timeout=30,
                              headers={"X-Is-Resource-Name": "true"}).json()["project_id"]

    firefox.navigate(f"{stack.url}/")
    firefox.wait_for("!!document.querySelector('input[name=principal]')", "the login form")
    firefox.type("input[name=principal]", f"{ADMIN[0]}{TAB}{ADMIN[1]}{ENTER}")
    firefox.wait_for(f"{_text('#view tbody')}.includes('in-firefox')", "the project list")
    assert firefox.evaluate(_text("#user")) == ADMIN[0]
    firefox.screenshot(SCREENSHOTS / "firefox-projects.png")

    firefox.navigate(f"{stack.url}/harbor/projects/{project_id}/repositories/alpine")
    total = firefox.wait_for("document.querySelector('[data-scan=Success]')?.dataset.total", "the severity bar")
    assert int(total) == len(ALPINE_318_FINDINGS)
    firefox.screenshot(SCREENSHOTS / "firefox-repository.png")

    firefox.evaluate("document.querySelector('a[href*=\"/artifacts/sha256:\"]').click()")  # the page's own routing
    rows = firefox.wait_for("document.querySelectorAll('#vulnerabilities tbody tr').length", "the vulnerabilities")
    assert rows == len(ALPINE_318_FINDINGS)
    firefox.screenshot(SCREENSHOTS / "firefox-artifact.png")
    assert firefox.violations() == []
