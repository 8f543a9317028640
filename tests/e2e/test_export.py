"""CVE export against the local stack (`make run`): the three calls of Harbor's 2.6 docs, verbatim,
with Basic auth, on images pushed with skopeo and scanned by trivy; then harborapi's export calls.
The state machine runs in the launcher's emulator and calls the export function in-process."""

from __future__ import annotations

import asyncio
import csv
import io
import time
from pathlib import Path

import requests
from harborapi import HarborAsyncClient
from harborapi.models import ScanDataExportRequest

from tests.e2e.conftest import ADMIN, Stack, run
from tests.support.images import write_layout
from tests.support.swagger import validate
from tests.support.vulnerable import (
    ALPINE_318_FINDINGS,
    CSV_HEADER,
    DEBIAN_12_FINDINGS,
    alpine_318,
    csv_rows,
    debian_12,
)

GENERIC = "application/vnd.security.vulnerability.report; version=1.1"


def _push_and_scan(stack: Stack, tmp_path: Path) -> dict[str, str]:
    digests = {}
    for name, image, target in (("nginx", alpine_318(), "library/nginx:1.25"),
                                ("core", debian_12(), "library/goharbor/core:v2.6")):
        source = write_layout(tmp_path / name, {"t": image})
        run("skopeo", "copy", "--dest-tls-verify=false", "--dest-creds", ":".join(ADMIN), f"oci:{source}:t",
            f"docker://{stack.host}/{target}")
        repository, tag = target.split(":")
        path = repository.split("/", 1)[1].replace("/", "%252F")
        scanned = requests.post(f"{stack.url}/api/v2.0/projects/library/repositories/{path}/artifacts/{tag}/scan",
                                auth=ADMIN, timeout=30)
        assert scanned.status_code == 202, scanned.text
        digests[repository] = image.digest
    deadline = time.monotonic() + 300
    for repository in digests:
        path = repository.split("/", 1)[1].replace("/", "%252F")
        while not requests.get(f"{stack.url}/api/v2.0/projects/library/repositories/{path}/artifacts/"
                               f"{digests[repository]}/additions/vulnerabilities", auth=ADMIN, timeout=30).json():
            assert time.monotonic() < deadline
            time.sleep(0.3)
    return digests


def _wait(stack: Stack, execution_id: int) -> dict:
    deadline = time.monotonic() + 300
    while True:
        execution = requests.get(f"{stack.url}/api/v2.0/export/cve/execution/{execution_id}", auth=ADMIN,
                                 headers={"X-Scan-Data-Type": "Test"}, timeout=30).json()
        if execution["status"] != "Running":
            return execution
        assert time.monotonic() < deadline, execution
        time.sleep(0.2)


def test_the_three_calls_verbatim(stack: Stack, tmp_path: Path) -> None:
    digests = _push_and_scan(stack, tmp_path)
    created = requests.post(f"{stack.url}/api/v2.0/export/cve", auth=ADMIN, timeout=30,
                            headers={"X-Scan-Data-Type": GENERIC, "Content-Type": "application/json"},
                            data='{"labels": [], "repositories": "{goharbor/*,nginx}", "projects": [], '
                                 '"job_name": "Test_Vuln_Export_Job"}')
    assert created.status_code == 200, created.text
    execution_id = created.json()["id"]
    execution = _wait(stack, execution_id)
    assert execution["status"] == "Success" and execution["file_present"] is True
    validate(execution, "ScanDataExportExecution")
    listed = requests.get(f"{stack.url}/api/v2.0/export/cve/executions", auth=ADMIN, timeout=30,
                          headers={"X-Harbor-CSRF-Token": "x"}).json()
    validate(listed, "ScanDataExportExecutionList")
    assert execution_id in [e["id"] for e in listed["items"]]

    downloaded = requests.get(f"{stack.url}/api/v2.0/export/cve/download/{execution_id}", auth=ADMIN, timeout=30)
    assert downloaded.status_code == 200 and downloaded.headers["Content-Type"] == "text/csv"
    rows = list(csv.reader(io.StringIO(downloaded.text)))
    assert ",".join(rows[0]) == CSV_HEADER
    expected = csv_rows("library/goharbor/core", digests["library/goharbor/core"], DEBIAN_12_FINDINGS) + csv_rows(
        "library/nginx", digests["library/nginx"], ALPINE_318_FINDINGS)
    assert rows[1:] == sorted(expected)
    again = requests.get(f"{stack.url}/api/v2.0/export/cve/download/{execution_id}", auth=ADMIN, timeout=30)
    assert again.status_code == 404
    listed = requests.get(f"{stack.url}/api/v2.0/export/cve/executions", auth=ADMIN, timeout=30).json()
    assert execution_id not in [e["id"] for e in listed["items"]]
    asyncio.run(_with_harborapi(stack))


async def _with_harborapi(stack: Stack) -> None:
    client = HarborAsyncClient(url=f"{stack.url}/api/v2.0", username=ADMIN[0], secret=ADMIN[1])
    job = await client.export_scan_data(ScanDataExportRequest(projects=[1], repositories="nginx",
                                                              cveIds="CVE-2099-000[1-2]"))
    deadline = time.monotonic() + 300
    while (execution := await client.get_scan_export(job.id)).status == "Running":
        assert time.monotonic() < deadline
        await asyncio.sleep(0.2)
    assert execution.file_present
    assert [e.id for e in (await client.get_scan_exports()).items] == [job.id]
    file = await client.download_scan_export(job.id)
    rows = list(csv.reader(io.StringIO(bytes(file).decode())))
    assert [r[2] for r in rows[1:]] == ["CVE-2099-0001", "CVE-2099-0002"]
