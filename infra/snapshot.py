"""The local stack's state on disk (`DATA_DIR`), so a stop, a crash or a `kill -9` and a start serve the
same registry.

The embedded emulator keeps everything in memory. The launcher restores the last snapshot into it
before the bootstrap runs, saves one every `interval` seconds when the emulator took writes since the
last (infra/emulator.py counts them), and a last one when it stops. A snapshot is one moment of the
registry: the metadata table's items and the bucket's objects are read while the emulator's DynamoDB
and S3 locks are both held (`emulator.frozen()`), so what a restart restores is a state the registry
was really in, as if every request had stopped at that instant (the registry's code is written to
survive that: bytes before the records that point at them). Most bytes are copied before that
moment, so the locks are held for the table's items and the objects written in between only.

On disk:
- `snapshot.pickle`, the index: the table's items (as the emulator holds them), every object's key with
  its ETag, content type, metadata and content file, the SSM parameters (the token signing key, scanner
  and registry credentials) and the EventBridge schedules. It is replaced in one rename, so there is
  always exactly one complete index, the last one written;
- `objects/`, content files, one per object version, never changed once written: a new index names the
  files it needs, all written (and fsynced) before it; files no index names any more are deleted after
  it. A crash at any point leaves the last index and every file it names: a restart always starts.

Not kept: SQS messages (a queued scan job is lost; its report reads Error after its deadline), Step
Functions executions in flight (a garbage collection or a CVE export then ends Error when next looked at)
and blob uploads in progress (S3 multipart sessions: the client restarts the upload).

What a `kill -9` can lose: writes after the last snapshot's moment. A save begins every `interval`
seconds while writes come, so a write acknowledged more than `interval` plus one save's duration before
the kill is kept (the launcher logs each save's duration; the README states the bound).

A save that fails (the emulator too busy to answer, a full disk) is logged, retried at the next
interval, and shown in Harbor's /api/v2.0/health as the unhealthy component `persistence` until a save
succeeds (the status file the API workers read, `persistence.json`).
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import boto3

from infra import emulator
from infra.resources import Context

INDEX = "snapshot.pickle"
CONTENT = "objects"
STATUS = "persistence.json"
_FORMAT = 2
_COPY_BYTES = 1024 * 1024
_LEGACY = ("dynamodb.pickle", "s3.pickle", "ssm.pickle", "schedules.pickle")  # the format before the index


@dataclass(frozen=True)
class SavedObject:
    etag: str
    metadata: dict[str, str]  # content type and user metadata, as S3 answers them in headers
    file: str  # under objects/


@dataclass
class Index:
    items: list[dict[str, Any]] = field(default_factory=list)
    objects: dict[str, SavedObject] = field(default_factory=dict)
    parameters: list[dict[str, Any]] = field(default_factory=list)
    schedules: list[dict[str, Any]] = field(default_factory=list)
    taken_at: float = 0.0  # time.time() of the moment it holds

    def dump(self, out: BinaryIO) -> None:
        """As plain data (no class of ours in the file, so a later version of this module reads it)."""
        pickle.dump({"format": _FORMAT, **asdict(self)}, out)

    @classmethod
    def load(cls, path: Path) -> Index:
        data = pickle.loads(path.read_bytes())
        objects = {key: SavedObject(**saved) for key, saved in data["objects"].items()}
        return cls(data["items"], objects, data["parameters"], data["schedules"], data["taken_at"])


def _fsync_directory(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _write_atomically(path: Path, write: Any) -> None:
    """`write(file)` fills a temporary file, which is fsynced and renamed to `path`: `path` is either
    absent or whole, whenever the process dies."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    with temporary.open("wb") as out:
        write(out)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, path)
    _fsync_directory(path.parent)


def _content_file(key: str, etag: str) -> str:
    name = hashlib.sha256(f"{key}\0{etag}".encode()).hexdigest()
    return f"{name[:2]}/{name}"


class Snapshots:
    def __init__(self, context: Context, directory: Path) -> None:
        self.directory = directory
        self.table = context.physical_name("MetadataTable")
        self.bucket = context.physical_name("BlobBucket")
        self.region, self.account = context.region, context.account_id
        self.status_file = directory / STATUS
        self.last_duration = 0.0  # seconds the last successful save took
        self._saved_generation = -1
        self._files: dict[tuple[str, str], str] = {}  # (key, etag) -> its content file, on disk
        self._legacy_left = False  # files of the format before the index, removed after the first save
        self._lock = threading.Lock()

    def _client(self, service: str) -> Any:
        return boto3.client(service, region_name=self.region)

    def _table(self) -> Any:
        from moto.dynamodb.models import dynamodb_backends

        return dynamodb_backends[self.account][self.region].get_table(self.table)

    def _s3(self) -> Any:
        from moto.s3.models import s3_backends

        return s3_backends[self.account]["aws"]

    # Restore --------------------------------------------------------------------------------------
    def restore(self) -> bool:
        """Load the last snapshot into the emulator; False when there is none."""
        self.directory.mkdir(parents=True, exist_ok=True)
        index_path = self.directory / INDEX
        if index_path.exists():
            self._restore(Index.load(index_path))
        elif (self.directory / _LEGACY[0]).exists():
            self._restore_legacy()
            self._legacy_left = True
        else:
            self._remove_unnamed_files(set())
            return False
        self._saved_generation = emulator.generation()
        return True

    def _restore(self, index: Index) -> None:
        from moto.dynamodb.models import dynamodb_backends

        dynamodb = dynamodb_backends[self.account][self.region]
        for item in index.items:
            dynamodb.put_item(self.table, item)
        s3 = self._s3()
        for key, saved in index.objects.items():
            restored = s3.put_object(self.bucket, key, (self.directory / CONTENT / saved.file).read_bytes(),
                                     etag=saved.etag.strip('"'))
            restored.set_metadata(dict(saved.metadata))
            self._files[(key, restored.etag)] = saved.file
        put_parameters(self._client("ssm"), index.parameters)
        create_schedules(self._client("scheduler"), index.schedules)
        self._remove_unnamed_files(set(self._files.values()))

    def _restore_legacy(self) -> None:
        """The format before the index (a table file and a file per key beside it), read once: the first
        save writes the index, and these files are removed after it."""
        def read(name: str) -> Any:
            path = self.directory / name
            return pickle.loads(path.read_bytes()) if path.exists() else None

        dynamodb, s3 = self._client("dynamodb"), self._client("s3")
        items = read("dynamodb.pickle") or []
        for start in range(0, len(items), 25):
            request = {self.table: [{"PutRequest": {"Item": item}} for item in items[start:start + 25]]}
            while request:
                request = dynamodb.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}
        for key, (_, content_type) in (read("s3.pickle") or {}).items():
            with (self.directory / "s3" / key).open("rb") as body:
                s3.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type)
        put_parameters(self._client("ssm"), read("ssm.pickle") or [])
        create_schedules(self._client("scheduler"), read("schedules.pickle") or [])

    def _remove_unnamed_files(self, named: set[str]) -> None:
        """Content files written by a save that died before its index, and temporary files."""
        content = self.directory / CONTENT
        for path in content.glob("*/*") if content.exists() else []:
            if f"{path.parent.name}/{path.name}" not in named:
                path.unlink(missing_ok=True)
        for temporary in self.directory.glob(".*.tmp"):
            temporary.unlink(missing_ok=True)

    # Save -----------------------------------------------------------------------------------------
    def save(self) -> bool:
        """Write what the emulator holds now, unless nothing changed since the last save."""
        with self._lock:
            generation = emulator.generation()  # before anything is read: a write after it saves again
            if generation == self._saved_generation:
                return False
            started = time.monotonic()
            index = Index(parameters=read_parameters(self._client("ssm")),
                          schedules=read_schedules(self._client("scheduler")))
            self._copy_new(self._listing())  # most bytes, while the registry goes on
            with emulator.frozen():
                index.taken_at = time.time()
                index.items = [item.to_json()["Attributes"] for item in self._table().all_items()]
                listing = self._listing()
                self._copy_new(listing)  # what was written since the copy above: usually nothing
            index.objects = {key: SavedObject(etag, metadata, self._files[(key, etag)])
                             for key, etag, metadata, _ in listing}
            _write_atomically(self.directory / INDEX, index.dump)
            self._forget_unnamed(index)
            self._saved_generation = generation
            self.last_duration = time.monotonic() - started
            return True

    def _listing(self) -> list[tuple[str, str, dict[str, str], Any]]:
        """(key, ETag, metadata, the emulator's object) of every object in the bucket, at one moment."""
        with emulator.frozen("s3"):
            return [(name, key.etag, dict(key.metadata), key)
                    for name, key in self._s3().get_bucket(self.bucket).keys.items()]

    def _copy_new(self, listing: list[tuple[str, str, dict[str, str], Any]]) -> None:
        """Write the content file of every listed object not on disk yet. An object replaced or deleted
        since it was listed is left out: it is not what the bucket holds any more."""
        for name, etag, _, key in listing:
            if (name, etag) in self._files:
                continue
            file = _content_file(name, etag)
            try:
                _write_atomically(self.directory / CONTENT / file, lambda out, key=key: _copy_value(key, out))
            except ValueError:  # its buffer was closed: replaced meanwhile
                continue
            self._files[(name, etag)] = file

    def _forget_unnamed(self, index: Index) -> None:
        named = {saved.file for saved in index.objects.values()}
        for version, file in list(self._files.items()):
            if file not in named:
                (self.directory / CONTENT / file).unlink(missing_ok=True)
                del self._files[version]
        if self._legacy_left:
            for legacy in _LEGACY:
                (self.directory / legacy).unlink(missing_ok=True)
            shutil.rmtree(self.directory / "s3", ignore_errors=True)
            self._legacy_left = False

    # Running --------------------------------------------------------------------------------------
    def save_reporting(self) -> bool:
        """A save whose outcome goes to the status file (and a failure to the log); never raises."""
        from chalicelib.observability import logger

        try:
            saved = self.save()
        except Exception as error:
            logger.exception("the local state could not be saved; retrying", extra={"directory": str(self.directory)})
            self._report(healthy=False, error=f"the last save failed ({type(error).__name__}); retrying")
            return False
        if saved:
            logger.info("local state saved", extra={"seconds": round(self.last_duration, 3)})
            self._report(healthy=True)
        return saved

    def _report(self, healthy: bool, error: str = "") -> None:
        status = {"healthy": healthy, "error": error, "last_duration_seconds": round(self.last_duration, 3)}
        _write_atomically(self.status_file, lambda out: out.write(json.dumps(status).encode()))

    def run_every(self, interval: float, stop: threading.Event) -> threading.Thread:
        """Save in the background, a save beginning every `interval` seconds (at once when the last took
        longer), until `stop` is set. A failed save is retried at the next interval: saving never stops."""
        def loop() -> None:
            due = time.monotonic() + interval
            while not stop.wait(max(0.0, due - time.monotonic())):
                due = time.monotonic() + interval
                self.save_reporting()
        thread = threading.Thread(target=loop, name="snapshots", daemon=True)
        thread.start()
        return thread


def _copy_value(key: Any, out: BinaryIO) -> None:
    """An emulator object's bytes, a piece at a time (moto's `value` would copy them whole, twice)."""
    with key.lock:
        buffer = key._value_buffer
        buffer.seek(0)
        while chunk := buffer.read(_COPY_BYTES):
            out.write(chunk)


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
