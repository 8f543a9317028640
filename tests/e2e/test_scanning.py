"""Scanning against the local stack (`make run`): real skopeo pushes, the real trivy binary run by the
launcher's in-process scan function, and harborapi reading the results."""

from __future__ import annotations

import asyncio
from pathlib import Path

from harborapi import HarborAsyncClient
from harborapi.models import ScannerRegistration

from tests.e2e.conftest import ADMIN, GENERIC, Stack, push, wait_for_report
from tests.support.swagger import validate
from tests.support.vulnerable import ALPINE_318_FINDINGS, DEBIAN_12_FINDINGS, alpine_318, debian_12, findings


def test_auto_scan_on_push_and_scan_through_the_api(stack: Stack, tmp_path: Path) -> None:
    session = stack.session()
    created = session.post(f"{stack.url}/api/v2.0/projects",
                           json={"project_name": "scanned", "metadata": {"auto_scan": "true"}}, timeout=30)
    assert created.status_code == 201, created.text
    push(stack, tmp_path, alpine_318(), "scanned/alpine:3.18")
    report = wait_for_report(stack, "/projects/scanned/repositories/alpine/artifacts/3.18")
    assert findings(report) == sorted(ALPINE_318_FINDINGS)

    push(stack, tmp_path, debian_12(), "library/debian:12")  # library has no auto_scan
    scanned = session.post(f"{stack.url}/api/v2.0/projects/library/repositories/debian/artifacts/12/scan", timeout=30)
    assert scanned.status_code == 202, scanned.text
    assert findings(wait_for_report(stack, "/projects/library/repositories/debian/artifacts/12")) == sorted(
        DEBIAN_12_FINDINGS)

    listed = session.get(f"{stack.url}/api/v2.0/projects/scanned/repositories/alpine/artifacts",
                         params={"with_scan_overview": "true"}, timeout=30).json()
    validate(listed, "Artifact", many=True)
    overview = listed[0]["scan_overview"][GENERIC]
    assert overview["scan_status"] == "Success" and overview["summary"]["total"] == 5
    validate(overview, "NativeReportSummary")
    validate(session.get(f"{stack.url}/api/v2.0/scanners", timeout=30).json(), "ScannerRegistration", many=True)
    asyncio.run(_read_with_harborapi(stack))


async def _read_with_harborapi(stack: Stack) -> None:
    client = HarborAsyncClient(url=f"{stack.url}/api/v2.0", username=ADMIN[0], secret=ADMIN[1])
    report = (await client.get_artifact_vulnerability_reports("scanned", "alpine", "3.18"))[GENERIC]
    assert sorted(v.id for v in report.vulnerabilities) == sorted(f[0] for f in ALPINE_318_FINDINGS)
    assert {v.severity.value for v in report.vulnerabilities} == {"Critical", "High", "Medium", "Low", "Unknown"}
    scanners: list[ScannerRegistration] = await client.get_scanners()
    assert [(s.name, s.is_default) for s in scanners] == [("Trivy", True)]
    artifact = await client.get_artifact("scanned", "alpine", "3.18", with_scan_overview=True)
    assert artifact.scan_overview is not None
