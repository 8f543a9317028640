"""The unit tests' AWS: moto in this process with infra/template.yaml's resources and the bootstrap,
built once per session and put back to its post-bootstrap state before every test.

Building it (moto's backends, the template's tables, bucket, queues, functions and state machines, the
bootstrap's PBKDF2 admin hash) cost more than most tests themselves; putting it back costs a few calls.
`reset()` restores what a test can change: the table's items, the bucket's objects and multipart
uploads, the SSM parameters, the schedules, the queues (a test deletes one) and their messages, and
the state machines' executions: those still running are stopped and waited for, and all are
forgotten (an export's execution is named after its id; ids start again at 1).
"""

from __future__ import annotations

import contextlib
import copy
import os
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any
from unittest import mock

import boto3
from moto import mock_aws

from chalicelib import aws
from chalicelib.auth import tokens
from chalicelib.store import cache
from infra import emulator, functions, resources, snapshot


class EmulatedAws:
    def __init__(self, region: str) -> None:
        # State machines run for real in the emulator; their Lambda tasks reach our handlers in-process.
        emulator.behave_as_aws()
        self._mock = mock_aws(config={"stepfunctions": {"execute_state_machine": True}})
        self._mock.start()
        aws.reset()
        tokens.forget_signing_key()  # the bootstrap creates this emulator's own
        self.context = resources.local_context(region)
        resources.create_all(self.context)
        self.environment = self.context.environment()
        os.environ.update(self.environment)
        local = functions.LocalFunctions(self.context)
        local.dispatch_lambda_invocations()
        local.invoke("BootstrapFunction", {})  # as a deployment does: with that function's permissions
        self._bucket = self.context.physical_name("BlobBucket")
        self._items = copy.deepcopy(self._table().items)
        self._parameters = snapshot.read_parameters(self._client("ssm"))
        self._schedules = snapshot.read_schedules(self._client("scheduler"))
        self._queues = self._client("sqs").list_queues()["QueueUrls"]

    def _client(self, service: str) -> Any:
        return boto3.client(service, region_name=self.context.region)

    def _table(self) -> Any:
        from moto.dynamodb.models import dynamodb_backends

        backend = dynamodb_backends[self.context.account_id][self.context.region]
        return backend.get_table(self.context.physical_name("MetadataTable"))

    def reset(self) -> None:
        """Back to the state right after the bootstrap, with no client or key cached from before."""
        os.environ.update(self.environment)
        self._stop_executions()  # first: a step still running would write into the state put back below
        self._table().items = copy.deepcopy(self._items)
        self._empty_bucket()
        ssm = self._client("ssm")
        kept = {p["Name"] for p in self._parameters}
        for added in [p["Name"] for p in snapshot.read_parameters(ssm) if p["Name"] not in kept]:
            ssm.delete_parameter(Name=added)
        snapshot.put_parameters(ssm, self._parameters)
        scheduler = self._client("scheduler")
        for schedule in scheduler.list_schedules().get("Schedules", []):
            scheduler.delete_schedule(Name=schedule["Name"], GroupName=schedule.get("GroupName", "default"))
        snapshot.create_schedules(scheduler, self._schedules)
        sqs = self._client("sqs")
        queues = sqs.list_queues().get("QueueUrls", [])
        if set(queues) != set(self._queues):  # a test deleted one (to see /health fail)
            resources.create_all(self.context)
        # AWS allows one PurgeQueue a minute per queue; the reset purges before every test.
        with mock.patch.dict(os.environ, {"MOTO_SQS_ENFORCE_STRICT_QUEUE_PURGE_BEHAVIOUR": "false"}):
            for url in queues:
                sqs.purge_queue(QueueUrl=url)
        aws.reset()
        cache.reset()
        tokens.forget_signing_key()

    def _stop_executions(self) -> None:
        """Stop what a test left running (an export waiting for its download) and wait for each of its
        threads to end: a leftover would write into the next test's state, under ids that start again at 1."""
        from moto.stepfunctions.parser.api import ExecutionStatus
        from moto.stepfunctions.parser.models import stepfunctions_parser_backends
        from moto.stepfunctions.parser.utils import TMP_THREADS

        machines = stepfunctions_parser_backends[self.context.account_id][self.context.region].state_machines
        for machine in machines:
            for execution in machine.executions:
                worker = execution.exec_worker
                if worker is None or execution.exec_status != ExecutionStatus.RUNNING:
                    continue
                while worker.env is None:  # its thread has just started and is building its environment
                    time.sleep(0.001)
                execution.stop(datetime.now(UTC), "TestEnded", "the test that started it ended")
            machine.executions = []
        # A running state starts threads of its own (the next state, Map iterations) and lists them before
        # it ends: once one pass finds every listed thread finished, no thread is left to start another.
        while running := [t for t in list(TMP_THREADS) if t.ident is None or t.is_alive()]:
            for thread in running:
                while thread.ident is None:  # listed before it was started: it starts at once
                    time.sleep(0.001)
                thread.join()
        TMP_THREADS.clear()

    def _empty_bucket(self) -> None:
        s3 = self._client("s3")
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=self._bucket):
            if page.get("Contents"):
                s3.delete_objects(Bucket=self._bucket,
                                  Delete={"Objects": [{"Key": o["Key"]} for o in page["Contents"]]})
        for upload in s3.list_multipart_uploads(Bucket=self._bucket).get("Uploads", []):
            s3.abort_multipart_upload(Bucket=self._bucket, Key=upload["Key"], UploadId=upload["UploadId"])

    def close(self) -> None:
        self._mock.stop()
        aws.reset()
        tokens.forget_signing_key()


@contextlib.contextmanager
def before_s3_deletes(action: Callable[[list[str]], None]) -> Iterator[None]:
    """While it lasts, `action(keys)` runs when a DeleteObjects call arrives, before S3 deletes them: a
    client's request interleaved at that exact point of a job, without timing."""
    from moto.s3.models import S3Backend

    original = S3Backend.delete_objects

    def delete_objects(self: S3Backend, bucket_name: str, objects: list[dict[str, Any]],
                       bypass_retention: bool = False) -> tuple[list[Any], list[str]]:
        action([o["Key"] for o in objects])
        return original(self, bucket_name, objects, bypass_retention)

    with mock.patch.object(S3Backend, "delete_objects", delete_objects):
        yield


@contextlib.contextmanager
def s3_refuses_to_delete(keys: set[str]) -> Iterator[None]:
    """While it lasts, S3's DeleteObjects answers AccessDenied for these keys, as it does for an object it
    may not delete (a legal hold, a bucket policy): a fault injected into the emulated AWS, never into
    our code."""
    from moto.s3.models import S3Backend

    original = S3Backend.delete_objects

    def delete_objects(self: S3Backend, bucket_name: str, objects: list[dict[str, Any]],
                       bypass_retention: bool = False) -> tuple[list[Any], list[str]]:
        deleted, errors = original(self, bucket_name, [o for o in objects if o["Key"] not in keys], bypass_retention)
        return deleted, errors + [o["Key"] for o in objects if o["Key"] in keys]

    with mock.patch.object(S3Backend, "delete_objects", delete_objects):
        yield


@contextlib.contextmanager
def s3_refuses_to_read(keys: set[str]) -> Iterator[None]:
    """While it lasts, S3's GetObject answers AccessDenied for these keys (an object a bucket policy or KMS
    denies): a fault injected into the emulated AWS, never into our code."""
    from moto.s3.exceptions import S3AccessDeniedError
    from moto.s3.models import S3Backend

    original = S3Backend.get_object

    def get_object(self: S3Backend, bucket_name: str, key_name: str, *args: Any, **kwargs: Any) -> Any:
        if key_name in keys:
            raise S3AccessDeniedError()
        return original(self, bucket_name, key_name, *args, **kwargs)

    with mock.patch.object(S3Backend, "get_object", get_object):
        yield
