"""`make bench-export`: a CVE export of 10,000 artifacts x 50 vulnerabilities (500,000 rows).

In process under moto, with the real state machine (moto's ASL interpreter) calling the export task
function. The metadata is seeded straight into DynamoDB (as scans would have left it: 10,000 reports
each linking 50 of 1,000 shared vulnerability records). Printed: rows per second of the export, the
AWS calls it made by operation (and per row), the CSV size; then, in a second run of the same export
with the state machine's tasks taken one at a time, each task's peak traced memory, next to the same
for an export a tenth of the size (memory should not grow with the rows).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import boto3

from chalicelib.config import settings
from chalicelib.scan import scanners
from chalicelib.scan.severity import GENERIC
from chalicelib.store import export_executions as executions
from chalicelib.store import metadata, objects
from tests.bench.measure import InProcessClient, in_process_stack, one_task_at_a_time
from tests.support.aws_calls import counting

REPOSITORIES, PER_REPOSITORY, PER_ARTIFACT, RECORDS = 100, 100, 50, 1000
SEVERITIES = ["Critical", "High", "Medium", "Low", "Unknown"]


def _digest(*parts: object) -> str:
    return "sha256:" + hashlib.sha256("/".join(map(str, parts)).encode()).hexdigest()


def _seed(scanner_uuid: str) -> None:
    records = []
    for n in range(RECORDS):
        cve, package, version = f"CVE-2099-{n:05d}", f"pkg{n % 97}", f"1.{n}.0"
        records.append({"PK": f"VULN#{scanner_uuid}#{cve}", "SK": json.dumps([package, version]), "cve_id": cve,
                        "package": package, "package_version": version, "severity": SEVERITIES[n % 5],
                        "fixed_version": f"1.{n}.1" if n % 3 else "", "cwe_ids": "CWE-79,CWE-89",
                        "description": "bench", "vendor_attributes": json.dumps(
                            {"CVSS": {"nvd": {"V3Score": 5.5, "V3Vector": "CVSS:3.1/AV:N/AC:L"}}})})
    metadata.batch_put(records)

    def items() -> Iterator[dict[str, Any]]:
        for r in range(REPOSITORIES):
            name = f"library/app-{r:03d}"
            yield {"PK": "CATALOG", "SK": name, "repository_id": r + 1, "artifact_count": PER_REPOSITORY}
            for a in range(PER_REPOSITORY):
                digest, report_id = _digest(r, a), f"report-{r}-{a}"
                yield {"PK": f"REPO#{name}", "SK": f"MANIFEST#{digest}", "digest": digest, "size": 500,
                       "media_type": "application/vnd.oci.image.manifest.v1+json", "type": "IMAGE",
                       "artifact_id": r * PER_REPOSITORY + a + 1, "push_time": "2026-11-28T00:00:00.000Z",
                       "annotations": "{}", "extra_attrs": "{}", "references": "[]"}
                linked = [records[(r * 7 + a * 13 + k * 19) % RECORDS] for k in range(PER_ARTIFACT)]
                yield {"PK": f"SCAN#{digest}", "SK": f"REPORT#{scanner_uuid}#{GENERIC}", "scanner_uuid": scanner_uuid,
                       "mime_type": GENERIC, "report_id": report_id, "job_id": report_id, "status": "Success",
                       "deadline": 0, "scanner": {"name": "Trivy", "vendor": "Aqua Security", "version": "0.59.1"},
                       "vuln_keys": json.dumps([[x["PK"], x["SK"]] for x in linked]), "links_object": ""}

    metadata.batch_put(items())


def _export(client: InProcessClient, body: dict[str, Any]) -> tuple[int, float]:
    started = time.perf_counter()
    answer = client.request("POST", "/api/v2.0/export/cve", body=json.dumps({"projects": [1], **body}).encode(),
                            headers={"Content-Type": "application/json", "X-Scan-Data-Type": GENERIC})
    execution_id = json.loads(answer.body)["id"]
    # Polled with a client of its own, so the polling is not counted as the export's calls.
    poller = boto3.client("dynamodb", region_name="us-east-1")
    key = {"PK": {"S": f"EXPORT#{execution_id}"}, "SK": {"S": "EXECUTION"}}
    while poller.get_item(TableName=settings().table_name, Key=key)["Item"]["status"]["S"] == executions.RUNNING:
        time.sleep(0.2)
    execution = executions.get(execution_id)
    assert execution and execution.status == executions.SUCCESS, execution
    return execution_id, time.perf_counter() - started


def main() -> None:
    print("== CVE export: 10,000 artifacts x 50 vulnerabilities (in process, moto, real state machine) ==")
    os.environ["EXPORT_RETENTION_SECONDS"] = "3600"
    with in_process_stack(state_machines=True) as gw:
        client = InProcessClient(gw)
        started = time.perf_counter()
        _seed(scanners.default_uuid() or "")
        print(f"seeded {REPOSITORIES * PER_REPOSITORY:,} scanned artifacts x {PER_ARTIFACT} vulnerabilities "
              f"({RECORDS:,} shared records) in {time.perf_counter() - started:.0f} s")

        with counting() as usage:
            execution_id, seconds = _export(client, {})
        execution = executions.get(execution_id)
        assert execution is not None
        rows = execution.rows
        print(f"rows {rows:,} in {seconds:.1f} s: {rows / seconds:,.0f} rows/s; CSV {execution.file_size / 1e6:.1f} MB "
              f"({len(objects.list_prefix(f'exports/{execution_id}/'))} object left: the file)")
        total = sum(usage.calls.values())
        print(f"AWS calls {total:,} ({total / rows:.4f} per row): " + ", ".join(
            f"{name} {count:,}" for name, count in sorted(usage.calls.items())))

        for label, body in (("a tenth (1,000 artifacts)", {"repositories": "app-00?"}), ("all", {})):
            peaks: dict[str, list[int]] = defaultdict(list)
            with one_task_at_a_time(peaks):
                execution_id, _ = _export(client, body)
            found = executions.get(execution_id)
            print(f"peak traced memory per task, {label}, {found.rows if found else 0:,} rows: " + ", ".join(
                f"{step} {max(values) / 1e6:.1f} MB (x{len(values)})" for step, values in peaks.items()))
    print("(a part's peak includes the CSV part it writes, which moto then keeps in memory; "
          "tasks ran one at a time for this measurement)")


if __name__ == "__main__":
    main()
