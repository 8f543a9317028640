"""`make bench-portal`: what the portal costs a browser and the API, through the local stack (`make run`)
in Debian's headless chromium.

- A first visit (empty browser cache) against later ones: the portal's files and their bytes, and how
  many come back as bodiless 304s (chromium asks for the page itself again in full on a driver's
  navigation; it is 0.8 KB).
- Per screen, each opened afresh (a full page load, as a bookmark or a reload does): API calls, API bytes
  and the time until the screen is drawn (p50 and p90 of several loads, as the driver sees it, so it
  includes the driver's own polling).
- The project summary (one artifact list per repository, for its charts) as a project's repositories grow.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from selenium.webdriver.remote.webdriver import WebDriver

from tests.bench.measure import percentile
from tests.e2e.conftest import wait_for_report
from tests.support.chromium import BOUND_SECONDS, chromium, log_in, network_events, settled, until
from tests.support.distribution import HttpClient
from tests.support.images import make_image
from tests.support.oci import push_image
from tests.support.stack import ADMIN, Stack, local_stack
from tests.support.vulnerable import alpine_318

LOADS = 7
SUMMARY_REPOSITORIES = (1, 10, 50)
HEADER = f"{'screen (full page load)':34} {'API':>5} {'API KB':>8} {'p50 ms':>8} {'p90 ms':>8}"


@dataclass
class Load:
    """The requests of one page load, by kind: the portal's files, the API."""
    files: int = 0
    file_bytes: int = 0
    not_modified: int = 0
    api_bytes: int = 0
    api_paths: list[str] = field(default_factory=list)


def _api(stack: Stack, method: str, path: str, **kwargs: Any) -> Any:
    reply = requests.request(method, f"{stack.url}/api/v2.0{path}", auth=ADMIN, timeout=30, **kwargs)
    assert reply.ok, reply.text
    return reply.json() if reply.content else None


def _open(browser: WebDriver, url: str) -> tuple[float, Load]:
    """Seconds until drawn, then the page's requests once none is still in flight."""
    network_events(browser)  # forget what came before
    started = time.perf_counter()
    browser.get(url)
    settled(browser, poll=0.01)  # polled often: the time until drawn is what is measured
    seconds = time.perf_counter() - started
    sent: dict[str, str] = {}
    status: dict[str, int] = {}
    size: dict[str, int] = {}  # of the requests that finished
    failed: set[str] = set()

    def quiet() -> bool:
        for event in network_events(browser):
            params, method = event["params"], event["method"]
            if method == "Network.requestWillBeSent" and params["request"]["url"].startswith("http"):
                sent[params["requestId"]] = params["request"]["url"]
            elif method == "Network.responseReceived":
                status[params["requestId"]] = params["response"]["status"]
            elif method == "Network.loadingFinished":
                size[params["requestId"]] = int(params["encodedDataLength"])
            elif method == "Network.loadingFailed":
                failed.add(params["requestId"])
        return set(sent) <= size.keys() | failed

    until(browser, quiet, "no request in flight", poll=0.01)
    load = Load()
    for request, url in sent.items():
        path = url.split("/", 3)[3]
        if path.startswith("api/"):
            load.api_bytes += size.get(request, 0)
            load.api_paths.append("/" + path)
        else:
            load.files += 1
            load.file_bytes += size.get(request, 0)
            load.not_modified += status.get(request) == 304
    return seconds, load


def _project(stack: Stack, name: str) -> int:
    _api(stack, "POST", "/projects", json={"project_name": name})
    return _api(stack, "GET", f"/projects/{name}", headers={"X-Is-Resource-Name": "true"})["project_id"]


def _scanned_image(stack: Stack) -> tuple[int, str]:
    """bench-portal/alpine:3.18, scanned: the project id and the artifact's digest."""
    project_id = _project(stack, "bench-portal")
    registry = HttpClient(stack.url, ADMIN)
    assert push_image(registry, "bench-portal/alpine", "3.18", alpine_318("bench-portal")).status == 201
    path = "/projects/bench-portal/repositories/alpine/artifacts/3.18"
    _api(stack, "POST", f"{path}/scan")
    wait_for_report(stack, path, BOUND_SECONDS)
    return project_id, _api(stack, "GET", path)["digest"]


def _summary_project(stack: Stack, repositories: int) -> int:
    name = f"bench-summary-{repositories}"
    project_id = _project(stack, name)
    registry = HttpClient(stack.url, ADMIN)
    for index in range(repositories):
        assert push_image(registry, f"{name}/app-{index}", "v1", make_image(f"{name}-{index}")).status == 201
    return project_id


def _row(label: str, browser: WebDriver, url: str) -> Load:
    _open(browser, url)  # once to warm the stack's caches and the browser's
    measured = [_open(browser, url) for _ in range(LOADS)]
    times = [seconds * 1000 for seconds, _ in measured]
    load = measured[-1][1]
    print(f"{label:34} {len(load.api_paths):>5} {load.api_bytes / 1024:>8.1f} {percentile(times, 50):>8.0f}"
          f" {percentile(times, 90):>8.0f}")
    return load


def _first_and_later_visit(browser: WebDriver, stack: Stack) -> None:
    url = f"{stack.url}/harbor/projects"
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Network.clearBrowserCache", {})
    _, first = _open(browser, url)
    later = sorted((_open(browser, url)[1] for _ in range(LOADS)), key=lambda load: load.file_bytes)[LOADS // 2]
    print("\nThe portal's files (the page, scripts, styles) on /harbor/projects; a later visit: the median of"
          f" {LOADS}")
    print(f"{'visit':34} {'files':>6} {'KB':>8} {'304s':>5}")
    for label, load in (("first (empty browser cache)", first), ("later (cache warm, revalidated)", later)):
        print(f"{label:34} {load.files:>6} {load.file_bytes / 1024:>8.1f} {load.not_modified:>5}")
    print(f"bytes of a later visit / a first one: {later.file_bytes / max(first.file_bytes, 1):.3f}")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, local_stack(Path(tmp)) as stack, chromium(network_log=True) as browser:
        project_id, digest = _scanned_image(stack)
        sized = {count: _summary_project(stack, count) for count in SUMMARY_REPOSITORIES}
        log_in(browser, stack.url, ADMIN)
        _first_and_later_visit(browser, stack)

        project = f"{stack.url}/harbor/projects/{project_id}"
        screens = [("projects", f"{stack.url}/harbor/projects"),
                   ("project summary (1 repository)", f"{project}/summary"),
                   ("project repositories", f"{project}/repositories"),
                   ("repository artifacts", f"{project}/repositories/alpine"),
                   ("artifact (vulnerabilities)", f"{project}/repositories/alpine/artifacts/{digest}"),
                   ("project members", f"{project}/members"),
                   ("project configuration", f"{project}/configs"),
                   ("audit logs", f"{stack.url}/harbor/logs"),
                   ("administration: GC", f"{stack.url}/harbor/clearing-job/gc")]
        print(f"\nPer screen, {LOADS} loads each after one to warm up; API calls of the last load below the table")
        print(HEADER)
        calls = {label: _row(label, browser, url).api_paths for label, url in screens}

        print("\nThe project summary as its repositories grow (one artifact list per repository, at most 100)")
        print(HEADER)
        for count, sized_id in sized.items():
            _row(f"summary, {count} repositories", browser, f"{stack.url}/harbor/projects/{sized_id}/summary")

        print("\nAPI calls per screen")
        for label, paths in calls.items():
            print(f"{label}:")
            for path in sorted(paths):
                print(f"    {path}")


if __name__ == "__main__":
    main()
