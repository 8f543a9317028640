"""Shared by the benchmarks: the in-process stack under moto, latency rows (AWS calls: tests/support/aws_calls.py)."""

from __future__ import annotations

import base64
import json
import os
import statistics
import threading
import time
import tracemalloc
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from moto import mock_aws

from chalicelib import aws, bootstrap
from chalicelib.config import settings
from infra import emulator, functions, gateway, resources
from tests.support.aws_calls import AwsUsage, counting
from tests.support.images import sha256

ADMIN_BASIC = "Basic " + base64.b64encode(b"admin:Harbor12345").decode()


@contextmanager
def in_process_stack(*, state_machines: bool = False) -> Iterator[gateway.Gateway]:
    """moto's in-memory AWS with the template's resources and the bootstrap, and one app instance (the
    emulator made atomic and forgetful of freed objects, as in the local stack). With `state_machines`,
    they run (moto's ASL interpreter) and their Lambda tasks reach our handlers in process."""
    emulator.behave_as_aws()
    with mock_aws(config={"stepfunctions": {"execute_state_machine": state_machines}}):
        aws.reset()
        context = resources.local_context("us-east-1")
        resources.create_all(context)
        os.environ.update(context.environment())
        settings.cache_clear()  # what the caller set in the environment counts
        bootstrap.run()
        if state_machines:
            functions.LocalFunctions(context).dispatch_lambda_invocations()
        yield gateway.Gateway(instances=1)


class InProcessClient:
    def __init__(self, gw: gateway.Gateway, authorization: str = ADMIN_BASIC) -> None:
        self.gateway, self.authorization = gw, authorization

    def request(self, method: str, path: str, *, body: bytes = b"", headers: dict[str, str] | None = None) -> Any:
        sent = [("Host", "bench.local"), ("Authorization", self.authorization), *(headers or {}).items()]
        return self.gateway.invoke(method, path, sent, body)


def pull_requests(image: Any) -> list[tuple[str, str, str]]:
    """(label, method, path) of each request of a pull of `image` pushed as library/bench:v1."""
    layer = sha256(image.layers[0])
    return [("HEAD manifest (tag)", "HEAD", "/v2/library/bench/manifests/v1"),
            ("GET manifest (tag)", "GET", "/v2/library/bench/manifests/v1"),
            ("GET manifest (digest)", "GET", f"/v2/library/bench/manifests/{image.digest}"),
            ("HEAD blob", "HEAD", f"/v2/library/bench/blobs/{layer}"),
            ("GET blob (307)", "GET", f"/v2/library/bench/blobs/{layer}")]


def print_header() -> None:
    print(f"{'request':34} {'p50 ms':>8} {'p99 ms':>8} {'own p50':>8} {'items':>7}  AWS calls per request")


def measure(client: InProcessClient, label: str, method: str, path: str, rounds: int,
            expected: tuple[int, ...] = (200, 307)) -> None:
    """Warm once, then time `rounds` requests. Prints latency percentiles, the p50 of our own code's time
    (total minus time waiting on the emulator), DynamoDB items read and AWS calls per request."""
    client.request(method, path)
    totals, own = [], []
    per_round: list[AwsUsage] = []
    for _ in range(rounds):
        with counting() as usage:
            started = time.perf_counter()
            answer = client.request(method, path)
            elapsed = time.perf_counter() - started
        assert answer.status in expected, (label, answer.status, answer.body[:300])
        totals.append(elapsed * 1000)
        own.append((elapsed - usage.seconds) * 1000)
        per_round.append(usage)
    calls: Counter[str] = sum((u.calls for u in per_round), Counter())
    per_request = ", ".join(f"{name} x{count / rounds:g}" for name, count in sorted(calls.items()))
    items = sum(u.items_read for u in per_round) / rounds
    print(f"{label:34} {percentile(totals, 50):8.2f} {percentile(totals, 99):8.2f} {percentile(own, 50):8.2f} "
          f"{items:7.0f}  {per_request or 'none'}; body {len(answer.body)} B")


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


@contextmanager
def one_task_at_a_time(peaks: dict[str, list[int]]) -> Iterator[None]:
    """Serialise the state machine's tasks and record each one's peak traced memory above its start."""
    from moto.awslambda.models import LambdaFunction

    dispatched = LambdaFunction._invoke_lambda
    lock = threading.Lock()

    def measured(function: Any, event: Any = None) -> Any:
        payload = json.loads(event) if isinstance(event, str | bytes) else (event or {})
        step = payload.get("step", "?")
        with lock:
            tracemalloc.reset_peak()
            start = tracemalloc.get_traced_memory()[0]
            answer = dispatched(function, event)
            peaks[step].append(tracemalloc.get_traced_memory()[1] - start)
            return answer

    LambdaFunction._invoke_lambda = measured
    tracemalloc.start()
    try:
        yield
    finally:
        tracemalloc.stop()
        LambdaFunction._invoke_lambda = dispatched
