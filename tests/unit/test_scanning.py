"""Scanning with the built-in trivy (the real binary, the offline fixture DB) and with an external
adapter: the API a user calls, the queued jobs run by the scan function, the reports they leave."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest

from chalicelib import schedules
from chalicelib.auth import users
from chalicelib.config import settings
from chalicelib.scan import reports, trivy
from chalicelib.store import scan_reports
from infra.functions import LocalFunctions, cron_matches, fire_schedules
from tests.support.adapter import serve_adapter
from tests.support.client import Client, Reply, api
from tests.support.images import OCI_INDEX, OCI_MANIFEST, Image, config_for, layer_tar, sha256
from tests.support.oci import push_image
from tests.support.vulnerable import (
    ALPINE_318_FINDINGS,
    DEBIAN_12_FINDINGS,
    alpine_318,
    debian_12,
    findings,
    no_packages,
)
from tests.unit.conftest import Configure

GENERIC = "application/vnd.security.vulnerability.report; version=1.1"
NATIVE = "application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0"
ARTIFACTS = "/projects/library/repositories/{repo}/artifacts"


def _artifact(repo: str, reference: str) -> str:
    return f"{ARTIFACTS.format(repo=repo)}/{reference}"


def _scan(client: Client, repo: str, reference: str, **kwargs: object) -> Reply:
    return api(client, "POST", f"{_artifact(repo, reference)}/scan", **kwargs)


def _vulnerabilities(client: Client, repo: str, reference: str, accept: str | None = None) -> dict:
    headers = {"X-Accept-Vulnerabilities": accept} if accept else {}
    reply = api(client, "GET", f"{_artifact(repo, reference)}/additions/vulnerabilities", headers=headers)
    assert reply.status == 200, reply.body
    return reply.json()


def _overview(client: Client, repo: str, reference: str) -> dict:
    reply = api(client, "GET", f"{_artifact(repo, reference)}?with_scan_overview=true")
    assert reply.status == 200, reply.body
    return reply.json()["scan_overview"]


def test_builtin_trivy_is_registered_default_and_immutable(client: Client) -> None:
    listed = api(client, "GET", "/scanners").json()
    assert [(s["name"], s["vendor"], s["version"], s["is_default"], s["url"]) for s in listed] == [
        ("Trivy", "Aqua Security", trivy.VERSION, True, "builtin://trivy")]
    uuid = listed[0]["uuid"]
    meta = api(client, "GET", f"/scanners/{uuid}/metadata").json()
    assert set(meta["capabilities"][0]["produces_mime_types"]) == {GENERIC, NATIVE}
    assert api(client, "DELETE", f"/scanners/{uuid}").status == 403
    assert api(client, "PUT", f"/scanners/{uuid}", {"name": "x", "url": "http://x"}).status == 403
    assert api(client, "GET", "/projects/library/scanner").json()["uuid"] == uuid
    # The version announced is the bundled binary's.
    version = subprocess.run([trivy.binary(), "--version"], capture_output=True, text=True, check=True).stdout
    assert f"Version: {trivy.VERSION}" in version


def test_scan_of_alpine_reports_the_fixture_findings(client: Client, worker: LocalFunctions) -> None:
    image = alpine_318()
    assert push_image(client, "library/alpine", "3.18", image).status == 201
    assert _scan(client, "alpine", "3.18").status == 202
    pending = _overview(client, "alpine", "3.18")[GENERIC]
    assert pending["scan_status"] == "Pending" and "summary" not in pending
    worker.drain()

    report = _vulnerabilities(client, "alpine", "3.18")[GENERIC]
    assert findings(report) == sorted(ALPINE_318_FINDINGS)
    assert report["severity"] == "Critical" and report["scanner"]["name"] == "Trivy"
    assert report["artifact"]["digest"] == image.digest
    musl = next(v for v in report["vulnerabilities"] if v["id"] == "CVE-2099-0002")
    assert musl["description"] == 'Synthetic advisory for tests, "quoted" text, and commas, to exercise CSV quoting.'
    assert "https://example.invalid/CVE-2099-0002" in musl["links"]
    assert musl["vendor_attributes"]["CVSS"]["nvd"]["V3Score"] == 2.5
    assert musl["artifact_digests"] == [image.digest]
    native = _vulnerabilities(client, "alpine", "3.18", NATIVE)
    assert list(native) == [NATIVE] and findings(native[NATIVE]) == sorted(ALPINE_318_FINDINGS)

    overview = _overview(client, "alpine", "3.18")[GENERIC]
    assert overview["scan_status"] == "Success" and overview["severity"] == "Critical"
    assert overview["summary"] == {"total": 5, "fixable": 3,
                                   "summary": {"Critical": 1, "High": 1, "Medium": 1, "Low": 1, "Unknown": 1}}
    assert overview["complete_percent"] == 100 and overview["scanner"]["version"] == trivy.VERSION
    assert overview["start_time"] <= overview["end_time"]
    log = api(client, "GET", f"{_artifact('alpine', '3.18')}/scan/{overview['report_id']}/log")
    assert log.status == 200 and f"trivy {trivy.VERSION} finished" in log.body.decode()
    listed = api(client, "GET", f"{ARTIFACTS.format(repo='alpine')}?with_scan_overview=true").json()
    assert listed[0]["scan_overview"][GENERIC]["summary"]["total"] == 5


def test_debian_findings_and_a_clean_image(client: Client, worker: LocalFunctions) -> None:
    push_image(client, "library/debian", "12", debian_12())
    push_image(client, "library/empty", "1", no_packages())
    assert _scan(client, "debian", "12").status == 202
    assert _scan(client, "empty", "1").status == 202
    worker.drain()
    assert findings(_vulnerabilities(client, "debian", "12")[GENERIC]) == sorted(DEBIAN_12_FINDINGS)
    clean = _overview(client, "empty", "1")[GENERIC]
    assert clean["scan_status"] == "Success" and clean["severity"] == "None"
    assert clean["summary"] == {"total": 0, "fixable": 0, "summary": {}}
    assert _vulnerabilities(client, "empty", "1")[GENERIC]["vulnerabilities"] == []


def test_an_unscanned_artifact_has_no_report(client: Client) -> None:
    push_image(client, "library/alpine", "3.18", alpine_318())
    assert _vulnerabilities(client, "alpine", "3.18") == {}
    # Harbor leaves the field out of an artifact that was never scanned.
    shown = api(client, "GET", f"{_artifact('alpine', '3.18')}?with_scan_overview=true").json()
    assert "scan_overview" not in shown
    listed = api(client, "GET", f"{ARTIFACTS.format(repo='alpine')}?with_scan_overview=true").json()
    assert "scan_overview" not in listed[0]


def test_scan_conflicts_while_pending_and_rescan_replaces_the_report(client: Client, worker: LocalFunctions) -> None:
    push_image(client, "library/alpine", "3.18", alpine_318())
    assert _scan(client, "alpine", "3.18").status == 202
    conflict = _scan(client, "alpine", "3.18")
    assert conflict.status == 409 and "a previous scan process is Pending" in conflict.json()["errors"][0]["message"]
    worker.drain()
    first = _overview(client, "alpine", "3.18")[GENERIC]["report_id"]
    assert _scan(client, "alpine", "3.18").status == 202
    assert _vulnerabilities(client, "alpine", "3.18") == {}  # the old report is gone, the new one not done
    worker.drain()
    again = _overview(client, "alpine", "3.18")[GENERIC]
    assert again["report_id"] != first and again["summary"]["total"] == 5
    assert len(_vulnerabilities(client, "alpine", "3.18")[GENERIC]["vulnerabilities"]) == 5


def test_who_may_scan(client: Client, worker: LocalFunctions) -> None:
    push_image(client, "library/alpine", "3.18", alpine_318())
    for name, role in (("dev", 2), ("guest", 3), ("keeper", 4)):
        users.create_user(name, "Passw0rd1")
        api(client, "POST", "/projects/library/members", {"role_id": role, "member_user": {"username": name}})
    assert _scan(client, "alpine", "3.18", auth=("dev", "Passw0rd1")).status == 403
    assert _scan(client, "alpine", "3.18", auth=("guest", "Passw0rd1")).status == 403
    assert _scan(client, "alpine", "3.18", auth=None).status == 401
    assert _scan(client, "alpine", "3.18", auth=("keeper", "Passw0rd1")).status == 202
    # Reading the result is open to whoever may read the artifact (a public project: anyone).
    worker.drain()
    reply = api(client, "GET", f"{_artifact('alpine', '3.18')}/additions/vulnerabilities", auth=None)
    assert len(reply.json()[GENERIC]["vulnerabilities"]) == 5


def test_scanning_an_index_scans_its_children(client: Client, worker: LocalFunctions) -> None:
    alpine, debian = alpine_318(), debian_12()
    for image in (alpine, debian):
        push_image(client, "library/multi", image.digest, image)
    index = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
        {"mediaType": OCI_MANIFEST, "digest": i.digest, "size": len(i.manifest),
         "platform": {"architecture": arch, "os": "linux"}} for i, arch in ((alpine, "amd64"), (debian, "arm64"))]})
    assert client.request("PUT", "/v2/library/multi/manifests/v1", body=index.encode(),
                          headers={"Content-Type": OCI_INDEX}).status == 201
    assert _scan(client, "multi", "v1").status == 202
    worker.drain()
    merged = _overview(client, "multi", "v1")[GENERIC]
    assert merged["scan_status"] == "Success" and merged["summary"]["total"] == 10
    assert merged["severity"] == "Critical"
    ids = {v["id"] for v in _vulnerabilities(client, "multi", "v1")[GENERIC]["vulnerabilities"]}
    assert ids == {f[0] for f in ALPINE_318_FINDINGS + DEBIAN_12_FINDINGS}
    assert _overview(client, "multi", alpine.digest)[GENERIC]["summary"]["total"] == 5


def test_a_non_image_artifact_cannot_be_scanned(client: Client) -> None:
    config = b"{}"
    chart = Image(config, [layer_tar({"chart.yaml": b"name: x"})])
    manifest = json.loads(chart.manifest)
    manifest["config"]["mediaType"] = "application/vnd.cncf.helm.config.v1+json"
    for blob in (config, *chart.layers):
        client.request("POST", f"/v2/library/chart/blobs/uploads/?digest={sha256(blob)}", body=blob)
    assert client.request("PUT", "/v2/library/chart/manifests/1", body=json.dumps(manifest).encode(),
                          headers={"Content-Type": OCI_MANIFEST}).status == 201
    assert _scan(client, "chart", "1").status == 400


def test_scan_on_push_when_auto_scan_is_on(client: Client, worker: LocalFunctions) -> None:
    assert api(client, "POST", "/projects", {"project_name": "auto", "metadata": {"auto_scan": "true"}}).status == 201
    push_image(client, "auto/alpine", "3.18", alpine_318())
    push_image(client, "library/debian", "12", debian_12())  # auto_scan off there
    worker.drain()
    reply = api(client, "GET", "/projects/auto/repositories/alpine/artifacts/3.18/additions/vulnerabilities")
    assert findings(reply.json()[GENERIC]) == sorted(ALPINE_318_FINDINGS)
    assert _vulnerabilities(client, "debian", "12") == {}
    # Reports belong to the digest, as in Harbor: the same image pushed elsewhere shows them at once.
    push_image(client, "library/alpine", "3.18", alpine_318())
    assert findings(_vulnerabilities(client, "alpine", "3.18")[GENERIC]) == sorted(ALPINE_318_FINDINGS)


def test_a_failing_scan_ends_error_with_its_reason(client: Client, worker: LocalFunctions) -> None:
    broken = Image(config_for([layer_tar({"etc/x": b"x"})]), [b"this is not a gzip layer"])
    push_image(client, "library/broken", "1", broken)
    assert _scan(client, "broken", "1").status == 202
    worker.drain()
    overview = _overview(client, "broken", "1")[GENERIC]
    assert overview["scan_status"] == "Error" and "summary" not in overview
    log = api(client, "GET", f"{_artifact('broken', '1')}/scan/{overview['report_id']}/log").body.decode()
    assert "scan failed: trivy failed" in log
    # A failed scan can be run again (no 409).
    assert _scan(client, "broken", "1").status == 202


def test_a_hung_scanner_is_stopped_at_the_time_limit(client: Client, worker: LocalFunctions, tmp_path: Path,
                                                     configure: Configure) -> None:
    hung = tmp_path / "trivy"
    hung.write_text("#!/bin/sh\nsleep 30\n")
    hung.chmod(0o755)
    configure(TRIVY_BINARY=str(hung), SCAN_TIMEOUT_SECONDS="1")  # a scanner that never answers
    push_image(client, "library/alpine", "3.18", alpine_318())
    assert _scan(client, "alpine", "3.18").status == 202
    worker.drain()
    overview = _overview(client, "alpine", "3.18")[GENERIC]
    assert overview["scan_status"] == "Error"
    log = api(client, "GET", f"{_artifact('alpine', '3.18')}/scan/{overview['report_id']}/log").body.decode()
    assert "did not finish within 1 s" in log


def test_a_job_that_never_reports_back_ends_error(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scan_reports, "PENDING_DEADLINE_SECONDS", -1)  # its queue message was lost
    push_image(client, "library/alpine", "3.18", alpine_318())
    assert _scan(client, "alpine", "3.18").status == 202
    overview = _overview(client, "alpine", "3.18")[GENERIC]
    assert overview["scan_status"] == "Error"
    log = api(client, "GET", f"{_artifact('alpine', '3.18')}/scan/{overview['report_id']}/log").body.decode()
    assert reports.EXPIRED_MESSAGE in log


def test_stop_discards_the_running_scan(client: Client, worker: LocalFunctions) -> None:
    push_image(client, "library/alpine", "3.18", alpine_318())
    assert _scan(client, "alpine", "3.18").status == 202
    assert api(client, "POST", f"{_artifact('alpine', '3.18')}/scan/stop").status == 202
    worker.drain()
    assert _overview(client, "alpine", "3.18")[GENERIC]["scan_status"] == "Stopped"
    assert _vulnerabilities(client, "alpine", "3.18") == {}
    assert api(client, "POST", f"{_artifact('alpine', '3.18')}/scan/stop").status == 400


def test_external_adapter_registration_scan_and_polling(client: Client, worker: LocalFunctions) -> None:
    push_image(client, "library/alpine", "3.18", alpine_318())
    with serve_adapter() as adapter:
        bad = dict(adapter.metadata, capabilities=[])
        good = adapter.metadata
        adapter.metadata = bad
        refused = api(client, "POST", "/scanners", {"name": "ext", "url": adapter.url})
        assert refused.status == 400 and "no capabilities" in refused.json()["errors"][0]["message"]
        assert api(client, "POST", "/scanners/ping", {"name": "ext", "url": adapter.url}).status == 400
        adapter.metadata = good
        created = api(client, "POST", "/scanners", {"name": "ext", "url": adapter.url, "auth": "Bearer",
                                                    "access_credential": "s3cret"})
        assert created.status == 201
        uuid = created.header("Location").rsplit("/", 1)[1]
        shown = api(client, "GET", f"/scanners/{uuid}").json()
        assert shown["vendor"] == "Tests Inc." and shown["access_credential"] == ""  # never shown back
        assert api(client, "POST", "/scanners", {"name": "ext", "url": adapter.url}).status == 409
        assert api(client, "PUT", "/projects/library/scanner", {"uuid": uuid}).status == 200
        assert api(client, "GET", "/projects/library/scanner").json()["name"] == "ext"

        adapter.headers_seen.clear()
        assert _scan(client, "alpine", "3.18").status == 202
        worker.drain()
        assert adapter.report_polls == 2  # 302 + Refresh-After, then the report
        request = adapter.scan_requests[0]
        assert request["artifact"]["repository"] == "library/alpine" and request["registry"]["url"]
        assert request["registry"]["authorization"].startswith("Basic ")
        assert all(h.get("Authorization") == "Bearer s3cret" for h in adapter.headers_seen)
        report = _vulnerabilities(client, "alpine", "3.18")[GENERIC]
        assert [(v["id"], v["severity"]) for v in report["vulnerabilities"]] == [("CVE-2099-9999", "None")]
        assert _overview(client, "alpine", "3.18")[GENERIC]["scanner"]["name"] == "TestScanner"
        # The temporary robot the adapter pulled with is gone.
        assert not [r for r in api(client, "GET", "/robots").json() if "ext-" in r["name"]]

        assert api(client, "PUT", f"/scanners/{uuid}", {"name": "ext", "url": adapter.url,
                                                         "disabled": True}).status == 200
        precondition = _scan(client, "alpine", "3.18")
        assert precondition.status == 412 and "deactivated" in precondition.json()["errors"][0]["message"]


def test_scanners_api_is_for_admins(client: Client) -> None:
    users.create_user("someone", "Passw0rd1")
    assert api(client, "GET", "/scanners", auth=("someone", "Passw0rd1")).status == 403
    assert api(client, "GET", "/scanners", auth=None).status == 401


def test_scan_all_manual_run_metrics_and_schedule(client: Client, worker: LocalFunctions) -> None:
    push_image(client, "library/alpine", "3.18", alpine_318())
    push_image(client, "library/debian", "12", debian_12())
    assert api(client, "POST", "/system/scanAll/schedule", {"schedule": {"type": "Manual"}}).status == 201
    assert api(client, "GET", "/scans/all/metrics").json()["ongoing"] is True
    worker.drain()
    metrics = api(client, "GET", "/scans/all/metrics").json()
    assert metrics == {"total": 2, "completed": 2, "metrics": {"Success": 2}, "ongoing": False, "trigger": "Manual"}
    assert _overview(client, "debian", "12")[GENERIC]["summary"]["total"] == 5

    assert api(client, "PUT", "/system/scanAll/schedule", {"schedule": {"type": "Daily"}}).status == 200
    schedule = api(client, "GET", "/system/scanAll/schedule").json()["schedule"]
    assert schedule == {"type": "Daily", "cron": "0 0 0 * * *"}
    deployed = boto3.client("scheduler").get_schedule(Name=schedules.deployed_name("scan-all"))
    assert deployed["ScheduleExpression"] == "cron(0 0 * * ? *)"
    assert json.loads(deployed["Target"]["Input"]) == {"kind": "scan_all_scheduled"}
    # The schedule fires (the launcher's clock does this each minute; here for a chosen minute).
    assert fire_schedules(datetime(2026, 11, 29, 0, 0, tzinfo=UTC), "us-east-1") == 1
    assert fire_schedules(datetime(2026, 11, 29, 0, 1, tzinfo=UTC), "us-east-1") == 0
    worker.drain()
    scheduled = api(client, "GET", "/scans/schedule/metrics").json()
    assert scheduled["trigger"] == "Schedule" and scheduled["total"] == 2 and scheduled["ongoing"] is False
    bad = api(client, "PUT", "/system/scanAll/schedule", {"schedule": {"type": "Custom", "cron": "nonsense"}})
    assert bad.status == 400
    assert api(client, "PUT", "/system/scanAll/schedule", {"schedule": {"type": "None"}}).status == 200
    assert api(client, "GET", "/system/scanAll/schedule").json() == {}


@pytest.mark.parametrize(("harbor_cron", "moment", "due"), [
    ("0 0 * * * *", datetime(2026, 11, 28, 13, 0), True),
    ("0 0 * * * *", datetime(2026, 11, 28, 13, 5), False),
    ("0 30 2 * * 0", datetime(2026, 11, 29, 2, 30), True),  # a Sunday
    ("0 30 2 * * 0", datetime(2026, 11, 28, 2, 30), False),
    ("0 */15 * * * *", datetime(2026, 11, 28, 7, 45), True),
    ("0 0 0 1 * *", datetime(2026, 12, 1, 0, 0), True),
])
def test_harbor_cron_runs_when_harbor_would(harbor_cron: str, moment: datetime, due: bool) -> None:
    assert cron_matches(schedules.to_eventbridge(harbor_cron), moment) is due


def test_default_scanner_candidates_and_deletion(client: Client) -> None:
    builtin = api(client, "GET", "/scanners").json()[0]["uuid"]
    with serve_adapter() as adapter:
        created = api(client, "POST", "/scanners", {"name": "ext", "url": adapter.url, "description": "external"})
        other = created.header("Location").rsplit("/", 1)[1]
        candidates = api(client, "GET", "/projects/library/scanner/candidates").json()
        assert {c["name"] for c in candidates} == {"Trivy", "ext"}
        assert api(client, "PATCH", f"/scanners/{other}", {"is_default": True}).status == 200
        assert api(client, "GET", "/projects/library/scanner").json()["uuid"] == other  # no choice of its own
        assert [s["name"] for s in api(client, "GET", "/scanners").json() if s["is_default"]] == ["ext"]
        assert api(client, "DELETE", f"/scanners/{other}").status == 403  # the default
        assert api(client, "PATCH", f"/scanners/{builtin}", {"is_default": True}).status == 200
        assert api(client, "DELETE", f"/scanners/{other}").status == 200
        assert api(client, "GET", f"/scanners/{other}").status == 404
        assert api(client, "GET", "/scanners?q=name%3D~tri").json()[0]["name"] == "Trivy"


def test_an_adapter_that_never_finishes_times_out(client: Client, worker: LocalFunctions,
                                                   configure: Configure) -> None:
    push_image(client, "library/alpine", "3.18", alpine_318())
    with serve_adapter() as adapter:
        adapter.not_ready_polls = 1_000
        adapter.metadata = dict(adapter.metadata, properties={
            "harbor.scanner-adapter/registry-authorization-type": "Bearer"})
        uuid = api(client, "POST", "/scanners", {"name": "slow", "url": adapter.url}).header("Location").rsplit("/")[-1]
        api(client, "PUT", "/projects/library/scanner", {"uuid": uuid})
        configure(ADAPTER_TIMEOUT_SECONDS="2")
        assert _scan(client, "alpine", "3.18").status == 202
        worker.drain()
        # The adapter asked for Bearer registry credentials: it got a registry token, not a password.
        assert adapter.scan_requests[0]["registry"]["authorization"].startswith("Bearer ")
        assert adapter.report_polls >= 1  # every answer was 302 + Refresh-After
    overview = _overview(client, "alpine", "3.18")[GENERIC]
    assert overview["scan_status"] == "Error"
    log = api(client, "GET", f"{_artifact('alpine', '3.18')}/scan/{overview['report_id']}/log").body.decode()
    assert "not ready after 2 s" in log


def test_a_long_report_keeps_its_links_in_s3(client: Client, worker: LocalFunctions,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scan_reports, "INLINE_LINKS", 2)  # 2,000 in production: an item holds at most 400 KB
    push_image(client, "library/alpine", "3.18", alpine_318())
    assert _scan(client, "alpine", "3.18").status == 202
    worker.drain()
    assert findings(_vulnerabilities(client, "alpine", "3.18")[GENERIC]) == sorted(ALPINE_318_FINDINGS)
    first = _overview(client, "alpine", "3.18")[GENERIC]["report_id"]
    s3 = boto3.client("s3")
    bucket = settings().bucket_name
    assert s3.list_objects_v2(Bucket=bucket, Prefix=f"scans/links/{first}")["KeyCount"] == 1
    assert _scan(client, "alpine", "3.18").status == 202
    worker.drain()
    assert s3.list_objects_v2(Bucket=bucket, Prefix=f"scans/links/{first}")["KeyCount"] == 0  # replaced
    assert len(_vulnerabilities(client, "alpine", "3.18")[GENERIC]["vulnerabilities"]) == 5
