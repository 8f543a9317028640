"""Shared by the benchmarks: the in-process stack under moto, AWS call counting, latency rows."""

from __future__ import annotations

import base64
import os
import statistics
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from moto import mock_aws

from chalicelib import aws, bootstrap
from infra import gateway, resources

ADMIN_BASIC = "Basic " + base64.b64encode(b"admin:Harbor12345").decode()


@contextmanager
def in_process_stack() -> Iterator[gateway.Gateway]:
    """moto's in-memory AWS with the template's resources and the bootstrap, and one app instance."""
    with mock_aws():
        aws.reset()
        context = resources.local_context("us-east-1")
        resources.create_all(context)
        os.environ.update(context.api_environment())
        bootstrap.run()
        yield gateway.Gateway(instances=1)


class InProcessClient:
    def __init__(self, gw: gateway.Gateway, authorization: str = ADMIN_BASIC) -> None:
        self.gateway, self.authorization = gw, authorization

    def request(self, method: str, path: str, *, body: bytes = b"", headers: dict[str, str] | None = None) -> Any:
        sent = [("Host", "bench.local"), ("Authorization", self.authorization), *(headers or {}).items()]
        return self.gateway.invoke(method, path, sent, body)


@contextmanager
def counting() -> Iterator[Counter[str]]:
    """AWS API calls of our clients while the block runs, by service.operation (and key kind for GetItem)."""
    calls: Counter[str] = Counter()

    def count(model: Any, params: dict[str, Any], **_: Any) -> None:
        label = f"{model.service_model.service_name}.{model.name}"
        if model.name == "GetItem":
            label += f"({params['Key']['PK']['S'].split('#')[0]})"
        calls[label] += 1

    clients = [aws.client(service) for service in ("dynamodb", "s3", "ssm")]
    for client in clients:
        client.meta.events.register("before-parameter-build", count)
    try:
        yield calls
    finally:
        for client in clients:
            client.meta.events.unregister("before-parameter-build", count)


def print_header() -> None:
    print(f"{'request':34} {'p50 ms':>8} {'p99 ms':>8}  AWS calls per request")


def measure(client: InProcessClient, label: str, method: str, path: str, rounds: int,
            expected: tuple[int, ...] = (200, 307)) -> None:
    """Warm once, then time `rounds` requests and print latency percentiles and calls per request."""
    client.request(method, path)
    timings = []
    with counting() as calls:
        for _ in range(rounds):
            started = time.perf_counter()
            answer = client.request(method, path)
            timings.append((time.perf_counter() - started) * 1000)
            assert answer.status in expected, (label, answer.status, answer.body[:300])
    per_request = ", ".join(f"{name} x{count / rounds:g}" for name, count in sorted(calls.items()))
    quantiles = statistics.quantiles(timings, n=100) if rounds > 1 else [timings[0]] * 99
    print(f"{label:34} {quantiles[49]:8.2f} {quantiles[98]:8.2f}  {per_request or 'none'}; "
          f"body {len(answer.body)} B")
