"""The portal in a real browser (Debian's headless chromium, driven by selenium) against `make run`:
Harbor's session and CSRF handshake, a project's life (create, push with skopeo, scan, members, CVE
export and its one download, audit logs), what a guest may not do, user strings shown as text, and a
screenshot of every screen under test-output/screenshots/ for a reviewer. Every wait ends as soon as
what a user would see is there."""

from __future__ import annotations

import base64
import csv
import io
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import Select

from tests.e2e.conftest import push
from tests.support.chromium import BOUND_SECONDS, chromium, css, log_in, one, settled, until
from tests.support.distribution import HttpClient
from tests.support.images import OCI_INDEX, OCI_MANIFEST, make_image
from tests.support.oci import push_cosign_signature, push_image
from tests.support.stack import ADMIN, Stack
from tests.support.vulnerable import ALPINE_318_FINDINGS, alpine_318

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
SCAN_TYPE = "application/vnd.security.vulnerability.report; version=1.1"
XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'


@pytest.fixture(scope="module")
def downloads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def browser(downloads: Path) -> Iterator[WebDriver]:
    with chromium(downloads) as driver:
        yield driver


def _api(stack: Stack, method: str, path: str, auth: tuple[str, str] = ADMIN, **kwargs: Any) -> requests.Response:
    return requests.request(method, f"{stack.url}/api/v2.0{path}", auth=auth, timeout=30, **kwargs)


def _open(browser: WebDriver, stack: Stack, path: str) -> None:
    browser.get(f"{stack.url}{path}")
    settled(browser)


def _shot(browser: WebDriver, name: str) -> None:
    """The whole page, below the fold too."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    size = browser.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    shot = browser.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": {
        "x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}})
    (SCREENSHOTS / f"{name}.png").write_bytes(base64.b64decode(shot["data"]))


def _fill_dialog(browser: WebDriver, values: dict[str, str]) -> None:
    dialog = one(browser, "dialog[open]")
    for name, value in values.items():
        field = dialog.find_element(By.NAME, name)
        if field.tag_name == "select":
            Select(field).select_by_value(value)
        else:
            field.clear()
            field.send_keys(value)
    dialog.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    until(browser, lambda: _gone(dialog), "the dialog closed")


def _gone(element: WebElement) -> bool:
    try:
        return element.get_attribute("open") is None
    except StaleElementReferenceException:  # closed dialogs are removed
        return True


def _no_policy_violation(browser: WebDriver) -> None:
    messages = [entry["message"] for entry in browser.get_log("browser")]
    assert not [m for m in messages if "Content Security Policy" in m], messages


def _make_user(stack: Stack, name: str) -> tuple[str, str]:
    user = (name, "Portal12345")
    reply = _api(stack, "POST", "/users", json={"username": name, "password": user[1], "realname": name,
                                                  "email": f"{name}@example.com"})
    assert reply.status_code == 201, reply.text
    return user


def _project_id(stack: Stack, name: str) -> int:
    return _api(stack, "GET", f"/projects/{name}", headers={"X-Is-Resource-Name": "true"}).json()["project_id"]


def test_log_in_see_the_projects_and_log_out(stack: Stack, browser: WebDriver) -> None:
    browser.get(f"{stack.url}/")
    one(browser, "input[name=principal]")
    _shot(browser, "login")

    one(browser, "input[name=principal]").send_keys(ADMIN[0], Keys.TAB, "wrong", Keys.ENTER)
    until(browser, lambda: "Invalid user name or password." in one(browser, ".error").text, "the refusal")
    assert browser.find_element(By.NAME, "principal").get_attribute("value") == ADMIN[0]  # kept for a retry
    browser.find_element(By.NAME, "password").send_keys(ADMIN[1], Keys.ENTER)
    until(browser, lambda: "library" in one(browser, "#view tbody").text, "the project list")
    assert browser.find_element(By.ID, "user").text == ADMIN[0]
    assert browser.current_url.endswith("/harbor/projects")

    one(browser, "#logout").click()
    one(browser, "input[name=principal]")
    _no_policy_violation(browser)


def test_a_project_from_creation_to_cve_export_and_audit_log(stack: Stack, browser: WebDriver, tmp_path: Path,
                                                             downloads: Path) -> None:
    log_in(browser, stack.url, ADMIN)
    # Create the project from the list.
    one(browser, "[data-action=new-project]").click()
    _fill_dialog(browser, {"project_name": "portal-journey"})
    until(browser, lambda: "portal-journey" in one(browser, "#view tbody").text, "the new project listed")
    project_id = _project_id(stack, "portal-journey")
    _shot(browser, "projects")

    # Push with skopeo; the repository appears, then its artifact, not scanned yet.
    push(stack, tmp_path, alpine_318("portal-journey"), "portal-journey/alpine:3.18")  # never scanned before
    _open(browser, stack, f"/harbor/projects/{project_id}/repositories")
    one(browser, "a[href$='/repositories/alpine']").click()
    one(browser, "[data-scan=none]")

    # Scan from the page: the severity bar shows the API's counts.
    one(browser, "[data-action=scan]").click()
    bar = one(browser, "[data-scan=Success]")
    artifact = _api(stack, "GET", "/projects/portal-journey/repositories/alpine/artifacts/3.18?with_scan_overview=true"
                    ).json()
    summary = artifact["scan_overview"][SCAN_TYPE]["summary"]
    assert int(bar.get_attribute("data-total")) == summary["total"] == len(ALPINE_318_FINDINGS)
    drawn = {rect.get_attribute("data-severity") for rect in bar.find_elements(By.CSS_SELECTOR, "rect")}
    assert drawn == {severity for severity, count in summary["summary"].items() if count}
    settled(browser)
    _shot(browser, "repository-artifacts")

    # The artifact: its vulnerabilities, filtered by package.
    one(browser, f"a[href$='/artifacts/{artifact['digest']}']").click()
    rows = lambda: [r.text for r in css(browser, "#vulnerabilities tbody tr")]  # noqa: E731
    until(browser, lambda: len(rows()) == len(ALPINE_318_FINDINGS), "every vulnerability listed")
    one(browser, "input[name=vulnerability-filter]").send_keys("musl")
    musl = [f for f in ALPINE_318_FINDINGS if f[1] == "musl"]
    until(browser, lambda: len(rows()) == len(musl) and all("musl" in r for r in rows()), "only musl's")
    _shot(browser, "artifact")

    # The project's summary draws the same counts, and the image among the most affected.
    _open(browser, stack, f"/harbor/projects/{project_id}/summary")
    charts = until(browser, lambda: browser.execute_script(
        "return Object.fromEntries([...document.querySelectorAll('svg.chart')].map((chart) => ["
        "chart.getAttribute('aria-label'), [...chart.querySelectorAll('rect title')].map((t) => t.textContent)]))"),
        "the charts")
    assert charts["Vulnerabilities by severity"] == [f"{name}: {summary['summary'].get(name, 0)}" for name in
                                                     ("Critical", "High", "Medium", "Low", "Unknown", "None")]
    assert charts["Most affected images (vulnerabilities)"] == [f"alpine:3.18: {summary['total']}"]
    _shot(browser, "project-summary-chart")

    # Members: add a guest, then make them a developer.
    _make_user(stack, "dana")
    _open(browser, stack, f"/harbor/projects/{project_id}/members")
    one(browser, "[data-action=add-member]").click()
    _fill_dialog(browser, {"username": "dana", "role_id": "3"})
    role = until(browser, lambda: next((s for s in css(browser, "select[name=role]")
                                         if s.get_attribute("aria-label") == "Role of dana"), None), "dana's role")
    assert Select(role).first_selected_option.text == "Guest"
    Select(role).select_by_value("2")
    until(browser, lambda: "dana is now Developer." in one(browser, "#notice").text, "the change confirmed")
    members = _api(stack, "GET", f"/projects/{project_id}/members?entityname=dana").json()
    assert [m["role_id"] for m in members if m["entity_name"] == "dana"] == [2]
    _shot(browser, "project-members")

    # CVE export: choose the repository, export, follow the job in Events, download once.
    _open(browser, stack, f"/harbor/projects/{project_id}/export-cve")
    one(browser, "input[name=repository][value=alpine]").click()
    one(browser, "form[aria-label='Export CVEs'] button[type=submit]").click()
    download = until(browser, lambda: next((entry.find_element(By.CSS_SELECTOR, "a.download") for entry in css(
        browser, "#events .event[data-status=Success]") if "portal-journey" in entry.text), None), "the job done")
    execution_id = int(download.find_element(By.XPATH, "..").get_attribute("data-execution"))
    _shot(browser, "events-panel")
    download.click()
    saved = downloads / f"scandata_export_{execution_id}.csv"
    until(browser, saved.exists, "the CSV downloaded")
    gone = one(browser, f"#events [data-execution='{execution_id}'][data-status=Downloaded]")
    assert "the file is gone" in gone.text
    assert _api(stack, "GET", f"/export/cve/download/{execution_id}").status_code == 404
    assert execution_id not in [e["id"] for e in _api(stack, "GET", "/export/cve/executions").json()["items"]]
    _shot(browser, "events-panel-downloaded")
    assert _rows(saved.read_text()) == _rows(_export_by_api(stack, project_id, "alpine"))
    assert len(_rows(saved.read_text())) == len(ALPINE_318_FINDINGS) + 1  # the header and one row per finding

    # The push in the audit logs, found with the filters.
    _open(browser, stack, "/harbor/logs")
    one(browser, "input[name=resource]").send_keys("portal-journey/alpine")
    Select(one(browser, "select[name=operation]")).select_by_value("create")
    one(browser, "form.filters button[type=submit]").click()
    rows = lambda: [row.text for row in css(browser, "#view tbody tr")]  # noqa: E731
    # The list shown before stays until the filtered one replaces it: wait for the filtered one.
    until(browser, lambda: any("portal-journey/alpine:3.18" in row for row in rows())
           and all("create" in row for row in rows()), "the push logged, and only creations")
    _shot(browser, "audit-logs")
    since = "document.querySelector('input[name=from]').value = arguments[0]"
    browser.execute_script(since, "2999-01-01T00:00")  # a time range after the push
    one(browser, "form.filters button[type=submit]").click()
    until(browser, lambda: "No log matches." in one(browser, "#view .region").text, "nothing after the push")
    browser.execute_script(since, "2000-01-01T00:00")
    one(browser, "form.filters button[type=submit]").click()
    until(browser, lambda: "portal-journey/alpine:3.18" in one(browser, "#view tbody").text, "the push again")
    _no_policy_violation(browser)


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def _export_by_api(stack: Stack, project_id: int, repositories: str) -> str:
    body = {"job_name": "by-api", "projects": [project_id], "repositories": repositories, "labels": []}
    execution_id = _api(stack, "POST", "/export/cve", json=body, headers={"X-Scan-Data-Type": SCAN_TYPE}).json()["id"]
    deadline = time.monotonic() + BOUND_SECONDS
    while _api(stack, "GET", f"/export/cve/execution/{execution_id}").json()["status"] == "Running":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    reply = _api(stack, "GET", f"/export/cve/download/{execution_id}")
    assert reply.status_code == 200, reply.text
    return reply.text


def test_a_guest_sees_no_delete_and_a_delete_is_refused(stack: Stack, browser: WebDriver, tmp_path: Path) -> None:
    guest = _make_user(stack, "gus")
    assert _api(stack, "POST", "/projects", json={"project_name": "guarded"}).status_code == 201
    project_id = _project_id(stack, "guarded")
    assert _api(stack, "POST", f"/projects/{project_id}/members",
                json={"role_id": 3, "member_user": {"username": "gus"}}).status_code == 201
    push(stack, tmp_path, alpine_318(), "guarded/alpine:3.18")

    log_in(browser, stack.url, guest)
    assert "guarded" in one(browser, "#view tbody").text
    assert not css(browser, "[data-action=delete-project]")
    _open(browser, stack, f"/harbor/projects/{project_id}/repositories")
    assert "guarded/alpine" in one(browser, "#view tbody").text
    assert not css(browser, "[data-action^=delete]")
    _open(browser, stack, f"/harbor/projects/{project_id}/repositories/alpine")
    one(browser, "[data-action=copy-pull]")
    assert not css(browser, "[data-action^=delete]") and not css(browser, "[data-action=scan]")
    assert not css(browser, "[data-action=add-tag]") and not css(browser, "[data-action=edit-description]")
    _shot(browser, "guest-repository")
    _open(browser, stack, f"/harbor/projects/{project_id}/members")
    assert "gus" in one(browser, "#view tbody").text and not css(browser, "select[name=role]")
    assert not css(browser, "#nav a[href='/harbor/users']")  # no administration

    # The page's own session, with its CSRF token, asks for the delete anyway: refused, nothing deleted.
    status = browser.execute_async_script("""
        const done = arguments[arguments.length - 1];
        fetch('/api/v2.0/users/current').then((reply) => fetch(
          '/api/v2.0/projects/guarded/repositories/alpine/artifacts/3.18',
          {method: 'DELETE', headers: {'X-Harbor-CSRF-Token': reply.headers.get('X-Harbor-CSRF-Token')}}))
          .then((reply) => done(reply.status));""")
    assert status == 403
    assert _api(stack, "GET", "/projects/guarded/repositories/alpine/artifacts/3.18").status_code == 200


def test_user_strings_are_shown_as_text(stack: Stack, browser: WebDriver, tmp_path: Path) -> None:
    assert _api(stack, "POST", "/projects", json={"project_name": "strings"}).status_code == 201
    project_id = _project_id(stack, "strings")
    label = {"name": XSS[:120], "description": XSS, "color": "#ff0000", "scope": "p", "project_id": project_id}
    assert _api(stack, "POST", "/labels", json=label).status_code == 201
    push(stack, tmp_path, alpine_318(), "strings/alpine:3.18")
    assert _api(stack, "PUT", "/projects/strings/repositories/alpine", json={"description": XSS}).status_code == 200

    log_in(browser, stack.url, ADMIN)
    _open(browser, stack, f"/harbor/projects/{project_id}/labels")
    cells = [cell.text for cell in css(browser, "#view tbody td")]
    assert XSS[:120] in cells and XSS in cells
    _open(browser, stack, f"/harbor/projects/{project_id}/repositories/alpine")
    assert one(browser, "[data-field=description]").text == XSS
    _shot(browser, "strings-as-text")
    assert browser.execute_script("return window.__xss") is None
    assert not css(browser, "#view img") and not css(browser, "#view script")
    _no_policy_violation(browser)


def _dialog_button(browser: WebDriver, label: str) -> WebElement:
    buttons = lambda: css(browser, "dialog[open] button")  # noqa: E731
    return until(browser, lambda: next((b for b in buttons() if b.text == label), None), label)


def test_everyday_actions_reach_the_api(stack: Stack, browser: WebDriver, tmp_path: Path) -> None:
    assert _api(stack, "POST", "/projects", json={"project_name": "portal-actions"}).status_code == 201
    project_id = _project_id(stack, "portal-actions")
    push(stack, tmp_path, alpine_318(), "portal-actions/alpine:3.18")
    artifact_path = "/projects/portal-actions/repositories/alpine/artifacts/3.18"
    registry = HttpClient(stack.url, ADMIN)
    push_cosign_signature(registry, "portal-actions/alpine", alpine_318())
    platforms = {"amd64": make_image("portal-amd64"), "arm64": make_image("portal-arm64")}
    for image in platforms.values():
        assert push_image(registry, "portal-actions/multi", image.digest, image).status == 201
    index = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
        {"mediaType": OCI_MANIFEST, "digest": image.digest, "size": len(image.manifest),
         "platform": {"os": "linux", "architecture": architecture}} for architecture, image in platforms.items()]})
    assert registry.request("PUT", "/v2/portal-actions/multi/manifests/latest", body=index.encode(),
                            headers={"Content-Type": OCI_INDEX}).status == 201
    log_in(browser, stack.url, ADMIN)

    # An index shows its platforms; a signed image its signature, also among its accessories.
    _open(browser, stack, f"/harbor/projects/{project_id}/repositories/multi")
    until(browser, lambda: "Index: linux/amd64, linux/arm64" in one(browser, "#view tbody").text, "the platforms")
    _open(browser, stack, f"/harbor/projects/{project_id}/repositories/alpine")
    row = until(browser, lambda: one(browser, "#view tbody tr").text, "the artifact")
    assert "Signed" in row and "Unsigned" not in row and "Accessories: signature.cosign" in row

    # A project label, then attached to the artifact from the artifact list, with a new tag.
    _open(browser, stack, f"/harbor/projects/{project_id}/labels")
    one(browser, "[data-action=new-label]").click()
    _fill_dialog(browser, {"name": "reviewed", "description": "checked by QA"})
    until(browser, lambda: "reviewed" in one(browser, "#view tbody").text, "the label listed")
    label_id = _api(stack, "GET", f"/labels?scope=p&project_id={project_id}").json()[0]["id"]
    _open(browser, stack, f"/harbor/projects/{project_id}/repositories/alpine")
    one(browser, "[data-action=labels]").click()
    one(browser, f"dialog[open] input[name=label-{label_id}]").click()
    _dialog_button(browser, "Save").click()
    until(browser, lambda: "reviewed" in one(browser, "#view tbody .label").text, "the label on the artifact")
    one(browser, "[data-action=add-tag]").click()
    _fill_dialog(browser, {"name": "stable"})
    until(browser, lambda: "stable" in one(browser, "#view tbody").text, "the new tag")
    artifact = _api(stack, "GET", f"{artifact_path}?with_label=true").json()
    assert [label["name"] for label in artifact["labels"]] == ["reviewed"]
    assert sorted(tag["name"] for tag in artifact["tags"]) == ["3.18", "stable"]

    # The description, then the tag deleted from the artifact's page.
    one(browser, "[data-action=edit-description]").click()
    _fill_dialog(browser, {"description": "Alpine, as shipped"})
    until(browser, lambda: one(browser, "[data-field=description]").text == "Alpine, as shipped", "the description")
    one(browser, f"a[href$='/artifacts/{artifact['digest']}']").click()
    until(browser, lambda: len(css(browser, "[data-action=delete-tag]")) == 2, "both tags")
    next(row for row in css(browser, "#view tbody tr") if row.text.startswith("stable")).find_element(
        By.CSS_SELECTOR, "[data-action=delete-tag]").click()
    _dialog_button(browser, "Delete").click()
    until(browser, lambda: len(css(browser, "[data-action=delete-tag]")) == 1, "the tag gone")
    assert [tag["name"] for tag in _api(stack, "GET", artifact_path).json()["tags"]] == ["3.18"]

    # Configuration: scan on push.
    _open(browser, stack, f"/harbor/projects/{project_id}/configs")
    one(browser, "input[name=auto_scan]").click()
    one(browser, "form.config button[type=submit]").click()
    until(browser, lambda: "Configuration saved." in one(browser, "#notice").text, "saved")
    assert _api(stack, "GET", f"/projects/{project_id}").json()["metadata"]["auto_scan"] == "true"

    # A robot account: its secret is shown once, and works.
    _open(browser, stack, f"/harbor/projects/{project_id}/robot-account")
    one(browser, "[data-action=new-robot]").click()
    _fill_dialog(browser, {"name": "ci"})
    secret = one(browser, "dialog[open] input[name=robot-secret]").get_attribute("value")
    robot = one(browser, "dialog[open] [data-field=robot-name]").text
    assert robot == "robot$portal-actions+ci" and secret
    token = requests.get(f"{stack.url}/service/token", auth=(robot, secret), timeout=30,
                         params={"service": "harbor-registry", "scope": "repository:portal-actions/alpine:pull"})
    assert token.status_code == 200, token.text
    _shot(browser, "robot-secret-once")
    _dialog_button(browser, "Done").click()
    until(browser, lambda: robot in one(browser, "#view tbody").text, "the robot listed")
    assert secret not in browser.page_source

    # A user made by the administrator.
    _open(browser, stack, "/harbor/users")
    one(browser, "[data-action=new-user]").click()
    _fill_dialog(browser, {"username": "erin", "email": "erin@example.com", "realname": "Erin E",
                           "password": "Erin12345"})
    until(browser, lambda: "erin@example.com" in one(browser, "#view tbody").text, "the user listed")
    assert requests.get(f"{stack.url}/api/v2.0/users/current", auth=("erin", "Erin12345"), timeout=30).ok

    # Garbage collection run from its page, followed to its end in the history.
    earlier = {str(run["id"]) for run in _api(stack, "GET", "/system/gc?page_size=100").json()}  # other tests' too
    _open(browser, stack, "/harbor/clearing-job/gc")
    one(browser, "[data-action=run-now]").click()
    newest = lambda: css(browser, "#view tbody tr")[0].find_elements(By.TAG_NAME, "td")  # noqa: E731
    until(browser, lambda: css(browser, "#view tbody tr") and newest()[0].text not in earlier
           and newest()[3].text == "Success", "this GC run finished")
    assert _api(stack, "GET", "/system/gc").json()[0]["job_status"] == "Success"
    _shot(browser, "admin-gc-history")
    _no_policy_violation(browser)


def test_the_keyboard_alone_makes_a_project_and_errors_are_shown(stack: Stack, browser: WebDriver) -> None:
    log_in(browser, stack.url, ADMIN)
    one(browser, "[data-action=new-project]").send_keys(Keys.ENTER)
    one(browser, "dialog[open]")
    focused = browser.switch_to.active_element  # the dialog takes the focus to its first field
    assert focused.get_attribute("name") == "project_name"
    focused.send_keys("by-keyboard", Keys.ENTER)
    until(browser, lambda: "by-keyboard" in one(browser, "#view tbody").text, "the project made")
    one(browser, "[data-action=new-project]").send_keys(Keys.ENTER)
    browser.switch_to.active_element.send_keys(Keys.ESCAPE)
    until(browser, lambda: not css(browser, "dialog[open]"), "the dialog closed by Escape")
    assert _api(stack, "GET", "/projects/by-keyboard", headers={"X-Is-Resource-Name": "true"}).status_code == 200

    _open(browser, stack, "/harbor/projects/999999/summary")  # no such project: the API's answer, said
    alert = one(browser, "#view [role=alert]").text
    assert alert.startswith("This page could not be loaded:") and "not found" in alert


def test_an_ended_session_asks_to_log_in_and_returns_to_the_screen(stack: Stack, browser: WebDriver) -> None:
    log_in(browser, stack.url, ADMIN)
    _open(browser, stack, "/harbor/projects/1/summary")
    browser.delete_cookie("sid")  # as when the session expires
    one(browser, "nav.tabs a[href$='/members']").click()
    one(browser, "input[name=principal]").send_keys(ADMIN[0], Keys.TAB, ADMIN[1], Keys.ENTER)
    until(browser, lambda: browser.current_url.endswith("/harbor/projects/1/members"), "the same screen")
    until(browser, lambda: "admin" in one(browser, "#view tbody").text, "the members")


SCREENS = {
    "project-summary": "/harbor/projects/1/summary", "project-repositories": "/harbor/projects/1/repositories",
    "project-labels": "/harbor/projects/1/labels", "project-robots": "/harbor/projects/1/robot-account",
    "project-scanner": "/harbor/projects/1/scanner", "project-logs": "/harbor/projects/1/logs",
    "project-configuration": "/harbor/projects/1/configs", "project-cve-export": "/harbor/projects/1/export-cve",
    "admin-users": "/harbor/users", "admin-robots": "/harbor/robot-accounts", "admin-registries": "/harbor/registries",
    "admin-replications": "/harbor/replications", "admin-labels": "/harbor/labels",
    "admin-scanners": "/harbor/interrogation-services/scanners",
    "admin-scan-all": "/harbor/interrogation-services/vulnerability", "admin-gc": "/harbor/clearing-job/gc",
    "admin-log-rotation": "/harbor/clearing-job/audit-log-purge", "admin-configuration": "/harbor/configs",
}


def test_every_screen_draws_without_error_on_a_laptop_and_a_phone(stack: Stack, browser: WebDriver) -> None:
    log_in(browser, stack.url, ADMIN)
    for name, path in SCREENS.items():
        _open(browser, stack, path)
        errors = [e.text for e in css(browser, "#view [role=alert]") if e.text]
        assert not errors, (path, errors)
        _shot(browser, name)
    browser.set_window_size(390, 844)  # a phone
    try:
        for name, path in (("phone-projects", "/harbor/projects"), ("phone-summary", "/harbor/projects/1/summary")):
            _open(browser, stack, path)
            # Nothing wider than the screen: wide tables scroll inside their own box.
            assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth"), path
            _shot(browser, name)
    finally:
        browser.set_window_size(1280, 1000)
    _no_policy_violation(browser)
