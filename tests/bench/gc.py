"""`make bench-gc`: garbage collection of 100,000 unreferenced blobs among 10,000 referenced ones, and an
audit-log purge of 1,000,000 records.

In process under moto, with the real state machine (moto's ASL interpreter) calling the GC task function
and the job worker running the purge's steps. The registry is seeded straight into the emulator (as
pushes and deletes would have left it): 100 repositories of 10 tagged images of 10 layers each (the
10,000 referenced blobs, linked), 10,000 unreferenced blobs still linked into those repositories (their
images deleted) and 90,000 that no repository links any more; every blob has its record and its bytes.
Printed: deletes per minute, the AWS calls by operation, a check that every referenced blob is still there
and every unreferenced one is gone; then each task's peak traced memory in a run with the tasks taken one
at a time, at a tenth and at the whole of the garbage (it should not grow with the blobs). Then the
audit purge: records per minute and its AWS calls. BENCH_GC_SCALE (default 1) and BENCH_AUDIT_RECORDS
(default 1,000,000) shrink it for a quick look.
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
from chalicelib.store import audit, executions
from chalicelib.store.dynamo import to_ddb
from infra import functions, resources
from tests.bench.measure import InProcessClient, in_process_stack, one_task_at_a_time
from tests.support.aws_calls import counting

SCALE = float(os.environ.get("BENCH_GC_SCALE", "1"))
REPOSITORIES, IMAGES, LAYERS = 100, 10, 10  # 10,000 referenced blobs
STALE_PER_REPOSITORY = int(100 * SCALE)  # 10,000 unreferenced, still linked
ORPHANS = int(90_000 * SCALE)  # 90,000 unreferenced, linked nowhere
AUDIT_RECORDS = int(os.environ.get("BENCH_AUDIT_RECORDS", "1000000"))
OLD = "2026-01-01T00:00:00.000Z"


def _digest(*parts: object) -> str:
    return "sha256:" + hashlib.sha256("/".join(map(str, parts)).encode()).hexdigest()


def _blob_key(digest: str) -> str:
    hex_digest = digest.split(":")[1]
    return f"blobs/sha256/{hex_digest[:2]}/{hex_digest}"


class Emulator:
    """Writes straight into moto's backends: seeding 200,000 items and 110,000 objects through the API
    would take longer than what is measured."""

    def __init__(self) -> None:
        from moto.dynamodb.models import dynamodb_backends
        from moto.s3.models import s3_backends

        self.table = dynamodb_backends["123456789012"]["us-east-1"].get_table(settings().table_name)
        self.s3 = s3_backends["123456789012"]["aws"]

    def put_items(self, items: Iterator[dict[str, Any]]) -> int:
        count = 0
        for item in items:
            self.table.put_item(to_ddb(item))
            count += 1
        return count

    def put_blob(self, digest: str) -> None:
        self.s3.put_object(settings().bucket_name, _blob_key(digest), b"x" * 100)


def _seed_referenced(seeder: Emulator) -> set[str]:
    referenced: set[str] = set()

    def items() -> Iterator[dict[str, Any]]:
        for r in range(REPOSITORIES):
            name = f"library/app-{r:03d}"
            yield {"PK": "CATALOG", "SK": name, "repository_id": r + 1, "artifact_count": IMAGES, "created": OLD}
            for i in range(IMAGES):
                layers = [_digest("layer", r, i, n) for n in range(LAYERS)]
                manifest = _digest("manifest", r, i)
                referenced.update(layers)
                yield {"PK": f"REPO#{name}", "SK": f"MANIFEST#{manifest}", "digest": manifest, "size": 500,
                       "media_type": "application/vnd.oci.image.manifest.v1+json", "type": "IMAGE", "blobs": layers,
                       "artifact_id": r * IMAGES + i + 1, "push_time": OLD, "created": OLD, "annotations": "{}",
                       "extra_attrs": "{}", "references": "[]"}
                yield {"PK": f"REPO#{name}", "SK": f"TAG#v{i}", "digest": manifest, "tag_id": r * IMAGES + i + 1,
                       "updated": OLD}
                for layer in layers:
                    yield {"PK": f"REPO#{name}", "SK": f"BLOB#{layer}", "size": 100, "created": OLD}
                    yield {"PK": f"BLOB#{layer}", "SK": "BLOB", "size": 100, "created": OLD}

    seeder.put_items(items())
    for digest in referenced:
        seeder.put_blob(digest)
    return referenced


def _seed_garbage(seeder: Emulator, fraction: float, round_: int) -> set[str]:
    stale_per_repository, orphans = int(STALE_PER_REPOSITORY * fraction), int(ORPHANS * fraction)
    garbage: set[str] = set()

    def items() -> Iterator[dict[str, Any]]:
        for r in range(REPOSITORIES):
            for n in range(stale_per_repository):
                digest = _digest("stale", round_, r, n)
                garbage.add(digest)
                yield {"PK": f"REPO#library/app-{r:03d}", "SK": f"BLOB#{digest}", "size": 100, "created": OLD}
                yield {"PK": f"BLOB#{digest}", "SK": "BLOB", "size": 100, "created": OLD}
        for n in range(orphans):
            digest = _digest("orphan", round_, n)
            garbage.add(digest)
            yield {"PK": f"BLOB#{digest}", "SK": "BLOB", "size": 100, "created": OLD}

    seeder.put_items(items())
    for digest in garbage:
        seeder.put_blob(digest)
    return garbage


def _stored() -> set[str]:
    s3, found = boto3.client("s3", region_name="us-east-1"), set()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=settings().bucket_name, Prefix="blobs/"):
        found |= {"sha256:" + o["Key"].rsplit("/", 1)[1] for o in page.get("Contents", [])}
    return found


def _created_id(answer: Any) -> int:
    """The execution id in a 201's Location header."""
    return int(next(v for k, v in answer.headers if k.lower() == "location").rsplit("/", 1)[1])


def _gc(client: InProcessClient) -> tuple[executions.ExecutionRecord, float]:
    started = time.perf_counter()
    answer = client.request("POST", "/api/v2.0/system/gc/schedule", body=json.dumps(
        {"schedule": {"type": "Manual"}, "parameters": {}}).encode(), headers={"Content-Type": "application/json"})
    assert answer.status == 201, answer.body
    execution_id = _created_id(answer)
    # Polled with a client of its own, so the polling is not counted as the run's calls.
    poller = boto3.client("dynamodb", region_name="us-east-1")
    key = {"PK": {"S": f"EXECUTION#gc#{execution_id}"}, "SK": {"S": "EXECUTION"}}
    while poller.get_item(TableName=settings().table_name, Key=key)["Item"]["status"]["S"] == executions.RUNNING:
        time.sleep(0.2)
    execution = executions.get("gc", execution_id)
    assert execution and execution.status == executions.SUCCESS, execution
    return execution, time.perf_counter() - started


def _calls(usage: Any, per: int, unit: str) -> str:
    total = sum(usage.calls.values())
    return (f"AWS calls {total:,} ({total / max(per, 1):.3f} per {unit}): "
            + ", ".join(f"{name} {count:,}" for name, count in sorted(usage.calls.items())))


def _bench_gc(client: InProcessClient, seeder: Emulator) -> None:
    started = time.perf_counter()
    referenced = _seed_referenced(seeder)
    garbage = _seed_garbage(seeder, 1.0, 0)
    print(f"seeded {len(referenced):,} referenced and {len(garbage):,} unreferenced blobs "
          f"({REPOSITORIES * STALE_PER_REPOSITORY:,} of them still linked) in {time.perf_counter() - started:.0f} s")

    with counting() as usage:
        execution, seconds = _gc(client)
    deleted = execution.tasks.get("blobs_deleted", 0)
    print(f"deleted {deleted:,} blobs and {execution.tasks.get('links_deleted', 0):,} links in {seconds:.1f} s: "
          f"{deleted / seconds * 60:,.0f} deletes per minute")
    print(_calls(usage, deleted, "deleted blob"))
    left = _stored()
    print(f"referenced blobs still stored: {len(referenced & left):,} of {len(referenced):,}; "
          f"unreferenced left: {len(garbage & left):,}")
    assert referenced <= left and not garbage & left

    for round_, (label, fraction) in enumerate((("a tenth", 0.1), ("all", 1.0)), start=1):
        more = _seed_garbage(seeder, fraction, round_)
        peaks: dict[str, list[int]] = defaultdict(list)
        with one_task_at_a_time(peaks):
            execution, _ = _gc(client)
        assert not more & _stored()
        print(f"peak traced memory per task, {label} of the garbage ({len(more):,} blobs): " + ", ".join(
            f"{step} {max(values) / 1e6:.1f} MB (x{len(values)})" for step, values in peaks.items()))


def _seed_audit(seeder: Emulator, count: int) -> None:
    now_ms = int(time.time() * 1000)
    old_ms = now_ms - 30 * 24 * 3600 * 1000

    def items() -> Iterator[dict[str, Any]]:
        counts: dict[tuple[str, str], int] = defaultdict(int)
        for n in range(count):
            at = old_ms + n if n % 10 else now_ms - 1000 + n % 1000  # a tenth are recent: kept
            item = audit.item(at << 12 | n % 4096, 1 + n % 10, f"p{n % 10}", ("create", "pull", "delete")[n % 3],
                              "artifact", f"p{n % 10}/app:v{n}", "admin", audit.new_nonce())
            counts[audit.counter_key(item)] += 1
            yield item
        for (pk, sk), records in counts.items():
            yield {"PK": pk, "SK": sk, "records": records}

    seeder.put_items(items())


def _bench_audit_purge(client: InProcessClient, seeder: Emulator, worker: functions.LocalFunctions) -> None:
    started = time.perf_counter()
    _seed_audit(seeder, AUDIT_RECORDS)
    print(f"seeded {AUDIT_RECORDS:,} audit records (9 in 10 older than the retention) in "
          f"{time.perf_counter() - started:.0f} s")
    with counting() as usage:
        started = time.perf_counter()
        answer = client.request("POST", "/api/v2.0/system/purgeaudit/schedule", body=json.dumps(
            {"schedule": {"type": "Manual"}, "parameters": {"audit_retention_hour": 168,
                                                            "include_operations": "create,delete,pull"}}).encode(),
            headers={"Content-Type": "application/json"})
        assert answer.status == 201, answer.body
        worker.drain(timeout=3600)
        seconds = time.perf_counter() - started
    execution = executions.get("purge_audit", _created_id(answer))
    assert execution and execution.status == executions.SUCCESS, execution
    purged = execution.tasks.get("purged", 0)
    print(f"purged {purged:,} records in {seconds:.1f} s: {purged / seconds * 60:,.0f} records per minute; "
          f"left {audit.count_all():,}")
    print(_calls(usage, purged, "purged record"))


def main() -> None:
    print(f"== garbage collection and audit purge (in process, moto, real state machine; scale {SCALE}) ==")
    os.environ["GC_TIME_WINDOW_HOURS"] = "0"  # the bytes were written just now, as seeding goes
    with in_process_stack(state_machines=True) as gw:
        client, seeder = InProcessClient(gw), Emulator()
        _bench_gc(client, seeder)
        _bench_audit_purge(client, seeder, functions.LocalFunctions(resources.local_context("us-east-1")))


if __name__ == "__main__":
    main()
