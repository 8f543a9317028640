"""CVE export: Harbor 2.6's API, run by the real state machine (moto's ASL interpreter) calling the
export task function in-process, on images scanned by the real trivy."""

from __future__ import annotations

import csv
import io
import json
import time
from typing import Any

import boto3
import pytest

from chalicelib.auth import users
from chalicelib.config import settings
from chalicelib.export import service
from chalicelib.export.patterns import matches
from infra.functions import LocalFunctions
from tests.support.client import Client, Reply, api
from tests.support.images import OCI_INDEX, OCI_MANIFEST
from tests.support.logs import captured_logs
from tests.support.oci import push_image
from tests.support.vulnerable import (
    ALPINE_318_FINDINGS,
    CSV_HEADER,
    DEBIAN_12_FINDINGS,
    alpine_318,
    csv_rows,
    debian_12,
)
from tests.unit.conftest import Configure

GENERIC = "application/vnd.security.vulnerability.report; version=1.1"


def _csv(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([CSV_HEADER.split(","), *rows])
    return out.getvalue()


def _scanned(client: Client, worker: LocalFunctions) -> dict[str, str]:
    """library/nginx (the Alpine fixture) and library/goharbor/core (Debian), scanned; their digests."""
    alpine, debian = alpine_318(), debian_12()
    push_image(client, "library/nginx", "1.25", alpine)
    push_image(client, "library/goharbor/core", "v2.6", debian)
    for path in ("nginx/artifacts/1.25", "goharbor%252Fcore/artifacts/v2.6"):
        assert api(client, "POST", f"/projects/library/repositories/{path}/scan").status == 202
    worker.drain()
    return {"nginx": alpine.digest, "core": debian.digest}


def _export(client: Client, body: dict[str, Any], **kwargs: Any) -> Reply:
    headers = {"X-Scan-Data-Type": GENERIC, **kwargs.pop("headers", {})}
    return api(client, "POST", "/export/cve", body, headers=headers, **kwargs)


def _finished(client: Client, execution_id: int, **kwargs: Any) -> dict[str, Any]:
    deadline = time.monotonic() + 300
    while True:
        execution = api(client, "GET", f"/export/cve/execution/{execution_id}", **kwargs).json()
        if execution["status"] != "Running":
            return execution
        assert time.monotonic() < deadline, execution
        time.sleep(0.05)


def _download(client: Client, execution_id: int, **kwargs: Any) -> Reply:
    return client.request("GET", f"/api/v2.0/export/cve/download/{execution_id}", **kwargs)


def test_the_three_calls_of_harbors_docs(client: Client, worker: LocalFunctions) -> None:
    digests = _scanned(client, worker)
    created = client.request("POST", "/api/v2.0/export/cve", body=json.dumps(
        {"labels": [], "repositories": "{goharbor/*,nginx}", "projects": [], "job_name": "Test_Vuln_Export_Job"}
    ).encode(), headers={"Content-Type": "application/json", "X-Scan-Data-Type": GENERIC})
    assert created.status == 200
    execution_id = created.json()["id"]
    extra = {"X-Scan-Data-Type": "Test", "X-Harbor-CSRF-Token": "anything"}
    first = client.request("GET", f"/api/v2.0/export/cve/execution/{execution_id}", headers=extra)
    assert first.status == 200 and first.json()["status"] == "Running"
    done = _finished(client, execution_id)
    assert done["status"] == "Success" and done["file_present"] is True and done["status_text"] == ""
    assert (done["user_name"], done["trigger"], done["job_name"]) == ("admin", "MANUAL", "Test_Vuln_Export_Job")
    listed = client.request("GET", "/api/v2.0/export/cve/executions", headers=extra).json()["items"]
    assert [e["id"] for e in listed] == [execution_id]

    downloaded = _download(client, execution_id, headers=extra)
    assert downloaded.status == 200
    assert downloaded.header("Content-Type") == "text/csv"
    assert downloaded.header("Content-Disposition") == f'attachment; filename="scandata_export_{execution_id}.csv"'
    expected = csv_rows("library/goharbor/core", digests["core"], DEBIAN_12_FINDINGS) + csv_rows(
        "library/nginx", digests["nginx"], ALPINE_318_FINDINGS)
    assert downloaded.body.decode() == _csv(sorted(expected))
    assert _download(client, execution_id).status == 404  # once only
    assert api(client, "GET", f"/export/cve/execution/{execution_id}").status == 404
    assert client.request("GET", "/api/v2.0/export/cve/executions").json()["items"] == []
    _wait_until_removed(execution_id)


def _wait_until_removed(execution_id: int) -> None:
    """The state machine removes the file behind the download."""
    s3 = boto3.client("s3")
    deadline = time.monotonic() + 300
    while s3.list_objects_v2(Bucket=settings().bucket_name, Prefix=f"exports/{execution_id}/").get("KeyCount"):
        assert time.monotonic() < deadline, "the export's objects were not removed"
        time.sleep(0.05)


def test_the_scan_data_type_header_is_required_and_exact(client: Client) -> None:
    missing = api(client, "POST", "/export/cve", {"projects": [1]})
    assert missing.status == 422
    wrong = _export(client, {"projects": [1]}, headers={"X-Scan-Data-Type": "application/json"})
    assert wrong.status == 400 and "Unsupported MIME type : application/json" in wrong.json()["errors"][0]["message"]
    spaced = _export(client, {"projects": [1], "repositories": "a, b"})
    assert spaced.status == 400 and "remove additional spaces" in spaced.json()["errors"][0]["message"]
    assert _export(client, {"projects": [999]}).status == 404
    assert _export(client, {"projects": [1], "cveIds": "{CVE-1"}).status == 400


def _rows(client: Client, body: dict[str, Any], **kwargs: Any) -> list[list[str]]:
    created = _export(client, {"projects": [1], **body}, **kwargs)
    assert created.status == 200, created.body
    execution = _finished(client, created.json()["id"], **kwargs)
    assert execution["status"] == "Success", execution
    if not execution["file_present"]:
        return []
    text = _download(client, created.json()["id"], **kwargs).body.decode()
    return list(csv.reader(io.StringIO(text)))[1:]


def test_filters(client: Client, worker: LocalFunctions) -> None:
    digests = _scanned(client, worker)
    push_image(client, "library/untagged", alpine_318().digest, alpine_318())  # by digest only: no tag
    label = api(client, "POST", "/labels", {"name": "prod", "scope": "g"}).header("Location").rsplit("/", 1)[1]
    api(client, "POST", "/projects/library/repositories/nginx/artifacts/1.25/labels", {"id": int(label)})

    def repositories(rows: list[list[str]]) -> set[str]:
        return {r[0] for r in rows}

    assert repositories(_rows(client, {"repositories": "nginx"})) == {"library/nginx"}
    assert repositories(_rows(client, {"repositories": "goharbor/**"})) == {"library/goharbor/core"}
    assert repositories(_rows(client, {"repositories": "{goharbor/*,nginx}"})) == {"library/goharbor/core",
                                                                                  "library/nginx"}
    # A tag filter keeps untagged artifacts (Harbor's quirk).
    assert repositories(_rows(client, {"tags": "v2.*"})) == {"library/goharbor/core", "library/untagged"}
    assert repositories(_rows(client, {"labels": [int(label)]})) == {"library/nginx"}
    cves = _rows(client, {"cveIds": "{CVE-2099-0001,CVE-2099-0101}"})
    assert sorted((r[0], r[2]) for r in cves) == [("library/goharbor/core", "CVE-2099-0101"),
                                                  ("library/nginx", "CVE-2099-0001"),
                                                  ("library/untagged", "CVE-2099-0001")]
    extra = _rows(client, {"repositories": "nginx", "cveIds": "CVE-2099-0003", "extra_columns": [
        "project", "tags", "cvss_v3_score", "cvss_v3_vector", "description"]})
    assert extra == [["library/nginx", digests["nginx"], "CVE-2099-0003", "busybox", "1.36.1-r1", "1.36.1-r2",
                      "Critical", "CWE-416", extra[0][8], "Trivy", "library", "1.25", "9.8",
                      "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "Synthetic advisory for tests."]]


def test_index_children_inherit_the_parents_tags_and_labels(client: Client, worker: LocalFunctions) -> None:
    alpine, debian = alpine_318(), debian_12()
    for image in (alpine, debian):
        push_image(client, "library/multi", image.digest, image)
    index = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
        {"mediaType": OCI_MANIFEST, "digest": i.digest, "size": len(i.manifest)} for i in (alpine, debian)]})
    client.request("PUT", "/v2/library/multi/manifests/v3", body=index.encode(), headers={"Content-Type": OCI_INDEX})
    assert api(client, "POST", "/projects/library/repositories/multi/artifacts/v3/scan").status == 202
    worker.drain()
    rows = _rows(client, {"tags": "v3"})
    assert {(r[1], r[2]) for r in rows} == {(alpine.digest, f[0]) for f in ALPINE_318_FINDINGS} | {
        (debian.digest, f[0]) for f in DEBIAN_12_FINDINGS}
    assert _rows(client, {"tags": "v4"}) == []


def test_several_projects_and_every_exportable_project(client: Client, worker: LocalFunctions) -> None:
    _scanned(client, worker)
    assert api(client, "POST", "/projects", {"project_name": "team"}).status == 201
    team_id = api(client, "GET", "/projects/team").json()["project_id"]
    push_image(client, "team/app", "1", debian_12())  # already scanned: reports belong to the digest
    both = _rows(client, {"projects": [1, team_id]})
    assert {r[0] for r in both} == {"library/nginx", "library/goharbor/core", "team/app"}
    users.create_user("dev", "Passw0rd1")
    api(client, "POST", "/projects/team/members", {"role_id": 2, "member_user": {"username": "dev"}})
    dev = ("dev", "Passw0rd1")
    created = _export(client, {"projects": []}, auth=dev)  # every project dev may export from: team only
    execution_id = created.json()["id"]
    assert _finished(client, execution_id, auth=dev)["status"] == "Success"
    text = _download(client, execution_id, auth=dev).body.decode()
    assert {r[0] for r in list(csv.reader(io.StringIO(text)))[1:]} == {"team/app"}


def test_who_may_export_and_read(client: Client, worker: LocalFunctions) -> None:
    _scanned(client, worker)
    assert api(client, "POST", "/projects", {"project_name": "private", "metadata": {"public": "false"}}).status == 201
    for name, role in (("admin1", 1), ("dev", 2), ("guest", 3), ("keeper", 4), ("limited", 5), ("outsider", 0)):
        users.create_user(name, "Passw0rd1")
        if role:
            for project in ("library", "private"):
                api(client, "POST", f"/projects/{project}/members", {"role_id": role,
                                                                    "member_user": {"username": name}})
    private_id = api(client, "GET", "/projects/private").json()["project_id"]
    statuses = {name: _export(client, {"projects": [private_id]}, auth=(name, "Passw0rd1")).status
                for name in ("admin1", "dev", "guest", "keeper", "limited", "outsider")}
    assert statuses == {"admin1": 200, "dev": 200, "guest": 403, "keeper": 200, "limited": 403, "outsider": 403}
    assert _export(client, {"projects": [1]}, auth=("outsider", "Passw0rd1")).status == 403  # public: still no
    assert _export(client, {"projects": [1]}, auth=None).status == 401
    robot = api(client, "POST", "/robots", {"name": "ci", "level": "project", "duration": -1, "permissions": [
        {"kind": "project", "namespace": "library", "access": [{"resource": "repository", "action": "pull"}]}]}).json()
    refused = _export(client, {"projects": [1]}, auth=(robot["name"], robot["secret"]))
    assert refused.status == 403 and "robot account cannot export" in refused.json()["errors"][0]["message"]

    mine = _export(client, {"projects": [1]}, auth=("dev", "Passw0rd1")).json()["id"]
    _finished(client, mine, auth=("dev", "Passw0rd1"))
    for other in (("keeper", "Passw0rd1"), None):  # another member, then the system admin
        reply = api(client, "GET", f"/export/cve/execution/{mine}", **({"auth": other} if other else {}))
        assert reply.status == 403 and reply.error_codes == ["FORBIDDEN"]
        denied = _download(client, mine, **({"auth": other} if other else {}))
        assert denied.status == 403 and denied.body == b""
    assert api(client, "GET", "/export/cve/executions").json()["items"] == []  # admin sees only its own
    assert api(client, "GET", "/export/cve/executions", auth=None).status == 401
    assert _download(client, mine, auth=("dev", "Passw0rd1")).status == 200


def test_an_export_that_matches_nothing(client: Client, worker: LocalFunctions) -> None:
    _scanned(client, worker)
    created = _export(client, {"projects": [1], "repositories": "nothing-here"})
    execution = _finished(client, created.json()["id"])
    assert execution["status"] == "Success" and execution["file_present"] is False
    assert execution["status_text"] == "No vulnerabilities found or matched"
    reply = _download(client, created.json()["id"])
    assert reply.status == 404 and reply.body == b""


def test_an_undownloaded_file_expires(client: Client, worker: LocalFunctions, configure: Configure) -> None:
    _scanned(client, worker)
    configure(EXPORT_RETENTION_SECONDS="1")  # a day, shortened
    execution_id = _export(client, {"projects": [1]}).json()["id"]
    assert _finished(client, execution_id)["file_present"] is True
    deadline = time.monotonic() + 300
    while api(client, "GET", f"/export/cve/execution/{execution_id}").json()["file_present"]:
        assert time.monotonic() < deadline, "the file did not expire"
        time.sleep(0.1)
    kept = api(client, "GET", f"/export/cve/execution/{execution_id}").json()
    assert kept["status"] == "Success"  # the execution stays, without its file (Harbor's daily cleanup)
    assert _download(client, execution_id).status == 404
    _wait_until_removed(execution_id)


def test_each_user_keeps_the_newest_finished_executions(client: Client, worker: LocalFunctions,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "KEEP_PER_USER", 3)  # 50 in production
    created = []
    for _ in range(5):
        created.append(_export(client, {"projects": [1]}).json()["id"])
        _finished(client, created[-1])
    _export(client, {"projects": [1]})  # the sixth sweeps
    listed = [e["id"] for e in api(client, "GET", "/export/cve/executions").json()["items"]]
    assert listed[1:] == [created[4], created[3], created[2]]
    assert api(client, "GET", f"/export/cve/execution/{created[0]}").status == 404


def test_a_failing_part_ends_the_export_in_error(client: Client, worker: LocalFunctions,
                                                 configure: Configure) -> None:
    _scanned(client, worker)
    configure(EXPORT_BATCH_ARTIFACTS="1")  # one Map branch per artifact
    # Corrupt one image's data: its report now links to a vulnerability record that is gone.
    table = boto3.client("dynamodb")
    scanner = api(client, "GET", "/scanners").json()[0]["uuid"]
    table.delete_item(TableName=settings().table_name, Key={
        "PK": {"S": f"VULN#{scanner}#CVE-2099-0003"}, "SK": {"S": json.dumps(["busybox", "1.36.1-r1"])}})
    with captured_logs() as logged:
        started = _export(client, {"projects": [1]}, headers={"X-Request-Id": "export-request-7"})
        assert started.header("X-Request-Id") == "export-request-7"
        execution_id = started.json()["id"]
        failed = _finished(client, execution_id)
    assert failed["status"] == "Error" and failed["file_present"] is False
    assert "part 1: library/nginx@" in failed["status_text"] and "CVE-2099-0003" in failed["status_text"]
    # The state machine's tasks log under the request that started the export.
    reported = [line for line in logged if line["message"] == "export failed"]
    assert reported and {line.get("request_id") for line in reported} == {"export-request-7"}
    assert _download(client, execution_id).status == 404
    _wait_until_removed(execution_id)


def test_two_exports_run_at_once(client: Client, worker: LocalFunctions) -> None:
    digests = _scanned(client, worker)
    first = _export(client, {"projects": [1], "repositories": "nginx"}).json()["id"]
    second = _export(client, {"projects": [1], "repositories": "goharbor/core"}).json()["id"]
    assert api(client, "GET", f"/export/cve/execution/{second}").json()["status"] == "Running"
    for execution_id in (first, second):
        assert _finished(client, execution_id)["status"] == "Success"
    nginx = _download(client, first).body.decode()
    core = _download(client, second).body.decode()
    assert nginx == _csv(csv_rows("library/nginx", digests["nginx"], sorted(ALPINE_318_FINDINGS)))
    assert core == _csv(csv_rows("library/goharbor/core", digests["core"], sorted(DEBIAN_12_FINDINGS)))


def test_a_file_too_large_for_a_lambda_answer_is_a_one_time_url(client: Client, worker: LocalFunctions,
                                                               configure: Configure) -> None:
    _scanned(client, worker)
    configure(EXPORT_INLINE_MAX_BYTES="100", PRESIGN_TTL_SECONDS="1")
    execution_id = _export(client, {"projects": [1]}).json()["id"]
    _finished(client, execution_id)
    redirected = _download(client, execution_id)
    assert redirected.status == 302
    assert f"exports/{execution_id}/scandata_export_{execution_id}.csv" in redirected.header("Location")
    assert _download(client, execution_id).status == 404
    _wait_until_removed(execution_id)  # once the URL has expired


@pytest.mark.parametrize(("pattern", "name", "matched"), [
    ("{goharbor/*,nginx}", "nginx", True), ("{goharbor/*,nginx}", "goharbor/core", True),
    ("{goharbor/*,nginx}", "goharbor/a/b", False), ("goharbor/**", "goharbor/a/b", True),
    ("*", "a/b", False), ("ngi?x", "nginx", True), ("CVE-2099-000[1-3]", "CVE-2099-0002", True),
    ("CVE-2099-000[^1-3]", "CVE-2099-0002", False), ("{a,b{c,d}}", "bd", True), ("a\\*", "a*", True),
    ("a\\*", "ab", False), ("", "anything/at/all", True), ("Nginx", "nginx", False),
])
def test_filter_patterns_match_as_doublestar(pattern: str, name: str, matched: bool) -> None:
    assert matches(pattern, name) is matched
