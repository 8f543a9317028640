"""The local stack's state on disk (`DATA_DIR`), so a stop and a start serve the same registry.

The embedded emulator keeps everything in memory. The launcher restores a snapshot into it before
the bootstrap runs, saves one every `interval` seconds when the emulator took writes since the last
(infra/emulator.py counts them), and a last one when it stops. A snapshot holds:

- the metadata table's items (`dynamodb.pickle`): users, projects, manifests, tags, scan reports, ...;
- the bucket's objects (`s3/<key>`, with `s3.pickle` listing each key's ETag and content type): blobs,
  manifests, scan links, export files; only objects that changed are written;
- the SSM parameters (`ssm.pickle`): the token signing key, so issued tokens stay valid, and scanner
  credentials;
- the EventBridge schedules (`schedules.pickle`): the scan-all schedule.

Not kept: SQS messages (a queued scan job is lost; its report reads Error after its deadline),
Step Functions executions in flight (a running CVE export ends Error-less and never finishes) and
blob uploads in progress (S3 multipart sessions: the client restarts the upload). A `kill -9` loses
what changed after the last snapshot (at most `interval` seconds of writes).

Every file is written to a temporary name and renamed, so a crash mid-save leaves the previous file.
"""

from __future__ import annotations

import os
import pickle
import threading
from pathlib import Path
from typing import Any

import boto3

from infra import emulator
from infra.resources import Context


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def _read(path: Path) -> Any:
    return pickle.loads(path.read_bytes()) if path.exists() else None


class Snapshots:
    def __init__(self, context: Context, directory: Path) -> None:
        self.directory = directory
        self.table = context.physical_name("MetadataTable")
        self.bucket = context.physical_name("BlobBucket")
        self.region = context.region
        self._saved_generation = -1
        self._lock = threading.Lock()

    def _client(self, service: str) -> Any:
        return boto3.client(service, region_name=self.region)

    # Restore --------------------------------------------------------------------------------------
    def restore(self) -> bool:
        """Load the last snapshot into the emulator; False when there is none."""
        items = _read(self.directory / "dynamodb.pickle")
        if items is None:
            return False
        dynamodb = self._client("dynamodb")
        for start in range(0, len(items), 25):
            request = {self.table: [{"PutRequest": {"Item": item}} for item in items[start:start + 25]]}
            while request:
                request = dynamodb.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}
        s3 = self._client("s3")
        for key, (_, content_type) in (_read(self.directory / "s3.pickle") or {}).items():
            s3.put_object(Bucket=self.bucket, Key=key, Body=(self.directory / "s3" / key).read_bytes(),
                          ContentType=content_type)
        put_parameters(self._client("ssm"), _read(self.directory / "ssm.pickle") or [])
        create_schedules(self._client("scheduler"), _read(self.directory / "schedules.pickle") or [])
        self._saved_generation = emulator.generation()
        return True

    # Save -----------------------------------------------------------------------------------------
    def save(self) -> bool:
        """Write what the emulator holds now, unless nothing changed since the last save."""
        with self._lock:
            generation = emulator.generation()
            if generation == self._saved_generation:
                return False
            self._save_table()
            self._save_objects()
            self._save_parameters()
            self._save_schedules()
            self._saved_generation = generation
            return True

    def _save_table(self) -> None:
        items: list[dict[str, Any]] = []
        for page in self._client("dynamodb").get_paginator("scan").paginate(TableName=self.table):
            items += page["Items"]
        _write_atomically(self.directory / "dynamodb.pickle", pickle.dumps(items))

    def _save_objects(self) -> None:
        s3 = self._client("s3")
        saved: dict[str, tuple[str, str]] = _read(self.directory / "s3.pickle") or {}
        current: dict[str, tuple[str, str]] = {}
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket):
            for listed in page.get("Contents", []):
                key, etag = listed["Key"], listed["ETag"]
                if key in saved and saved[key][0] == etag:
                    current[key] = saved[key]
                    continue
                found = s3.get_object(Bucket=self.bucket, Key=key)
                _write_atomically(self.directory / "s3" / key, found["Body"].read())
                current[key] = (etag, found.get("ContentType", "binary/octet-stream"))
        for gone in set(saved) - set(current):
            (self.directory / "s3" / gone).unlink(missing_ok=True)
        _write_atomically(self.directory / "s3.pickle", pickle.dumps(current))

    def _save_parameters(self) -> None:
        _write_atomically(self.directory / "ssm.pickle", pickle.dumps(read_parameters(self._client("ssm"))))

    def _save_schedules(self) -> None:
        _write_atomically(self.directory / "schedules.pickle", pickle.dumps(read_schedules(self._client("scheduler"))))

    def run_every(self, interval: float, stop: threading.Event) -> threading.Thread:
        """Save in the background every `interval` seconds until `stop` is set."""
        def loop() -> None:
            while not stop.wait(interval):
                self.save()
        thread = threading.Thread(target=loop, name="snapshots", daemon=True)
        thread.start()
        return thread


# Parameters and schedules as their create calls take them (the unit tests' stack reuses these too).
_SCHEDULE_FIELDS = ("Name", "GroupName", "ScheduleExpression", "ScheduleExpressionTimezone", "FlexibleTimeWindow",
                    "Target", "State", "Description")


def read_parameters(ssm: Any) -> list[dict[str, Any]]:
    parameters: list[dict[str, Any]] = []
    for page in ssm.get_paginator("get_parameters_by_path").paginate(Path="/", Recursive=True, WithDecryption=True):
        parameters += [{"Name": p["Name"], "Value": p["Value"], "Type": p["Type"]} for p in page["Parameters"]]
    return parameters


def put_parameters(ssm: Any, parameters: list[dict[str, Any]]) -> None:
    for parameter in parameters:
        ssm.put_parameter(**parameter, Overwrite=True)


def read_schedules(scheduler: Any) -> list[dict[str, Any]]:
    schedules = []
    for listed in scheduler.list_schedules().get("Schedules", []):
        found = scheduler.get_schedule(Name=listed["Name"], GroupName=listed.get("GroupName", "default"))
        schedules.append({k: found[k] for k in _SCHEDULE_FIELDS if k in found})
    return schedules


def create_schedules(scheduler: Any, schedules: list[dict[str, Any]]) -> None:
    for schedule in schedules:
        scheduler.create_schedule(**schedule)
