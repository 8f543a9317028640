"""AWS calls made by the app while a block runs, counted on the shared boto3 clients (chalicelib/aws.py):
the benchmarks print them, the cache tests assert that a warm pull makes none to DynamoDB."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from chalicelib import aws

COUNTED = ("dynamodb", "s3", "ssm", "sqs")


@dataclass
class AwsUsage:
    """AWS calls made while a block ran: count by service.operation (and key kind for GetItem), the
    DynamoDB items they read, and the seconds spent waiting for them (the emulator's time, not ours)."""

    calls: Counter[str] = field(default_factory=Counter)
    items_read: int = 0
    seconds: float = 0.0


@contextmanager
def counting() -> Iterator[AwsUsage]:
    usage = AwsUsage()

    def before(model: Any, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        label = f"{model.service_model.service_name}.{model.name}"
        if model.name == "GetItem":
            label += f"({params['Key']['PK']['S'].split('#')[0]})"
        usage.calls[label] += 1
        context["bench_started"] = time.perf_counter()

    def after(parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        usage.seconds += time.perf_counter() - context.pop("bench_started", time.perf_counter())
        usage.items_read += int(parsed.get("ScannedCount", parsed.get("Count", 1 if "Item" in parsed else 0)))

    clients = [aws.client(service) for service in COUNTED]
    for client in clients:
        client.meta.events.register("before-parameter-build", before)
        client.meta.events.register("after-call", after)
    try:
        yield usage
    finally:
        for client in clients:
            client.meta.events.unregister("before-parameter-build", before)
            client.meta.events.unregister("after-call", after)
