"""`make bench-pull`: concurrent pulls, side by side on this machine, and what a pull costs on AWS.

1. Throughput and latency of the requests of a pull (manifest GET and HEAD by tag and by digest, blob
   GET, token) at 1, 8 and 32 connections for BENCH_SECONDS (default 5) each, against: the local stack
   (`make run`) with its cache warm; the local stack without the cache (`--no-cache`); and the CNCF
   distribution registry (Debian's docker-registry, htpasswd Basic auth on every request), started
   here. Each connection is a thread with its own keep-alive connection. Our blob GET answers 307
   (the bytes come from S3); distribution's answers 200 with the bytes.
2. In process (moto, a redis-server of its own): AWS calls and Redis round trips per request, warm
   and cold (entries missing, as after a write), and the handler's own time.
3. A cost model per million pulls on AWS from the counted calls, the measured handler time and the
   published on-demand prices (us-east-1) below.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import re
import shutil
import statistics
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis
import requests

from chalicelib import aws
from chalicelib.store import cache
from infra.cache_server import RedisServer
from tests.bench.measure import InProcessClient, in_process_stack, pull_requests
from tests.bench.registry import _distribution, _timed
from tests.support.aws_calls import counting
from tests.support.images import Image, make_image, sha256, write_layout
from tests.support.oci import push_image
from tests.support.stack import local_stack

SECONDS = float(os.environ.get("BENCH_SECONDS", "5"))
CONNECTIONS = (1, 8, 32)
ROUNDS = 200
MANIFEST = "application/vnd.oci.image.manifest.v1+json"

# Published on-demand prices, us-east-1 (USD), as of 2025: per million requests or units.
PRICES = {
    "API Gateway REST requests": 3.50,
    "Lambda requests": 0.20,
    "Lambda GB-s": 0.0000166667 * 1_000_000,  # per million GB-s
    "DynamoDB read units": 0.125,
    "DynamoDB write units": 0.625,
    "ElastiCache Serverless ECPUs": 0.0034,
    "SQS standard requests": 0.40,
}
API_MEMORY_GB = 1.0  # .chalice/config.json: lambda_memory_size 1024
# Transactional writes cost 2 units: its record, its share of a tally update (99 records each) and of the
# batch's transfer of 1,000 pulls (the artifact, the repository, 8 audit counters, the tally's deletion).
RECORDER_WRITE_UNITS_PER_PULL = 2 * (1 + 1 / 99 + (1 + 1 + 8 + 1) / 1000)
# ElastiCache Serverless bills 1 ECPU per KB a command moves: the pull's MGET (the manifest entry, 1-2 KB).
ECPUS_PER_PULL = 2
# The pull's SendMessage (store/pulls.py), and its share of the event source's receives and deletes
# (batches of 10 messages).
SQS_REQUESTS_PER_PULL = 1 + 2 / 10


@dataclass
class Row:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0


def _load(host: str, method: str, path: str, headers: dict[str, str], expected: int, connections: int) -> Row:
    row, lock, stop = Row(), threading.Lock(), threading.Event()

    def connection() -> None:
        conn = http.client.HTTPConnection(host, timeout=60)
        mine, errors = [], 0
        while not stop.is_set():
            started = time.perf_counter()
            try:
                conn.request(method, path, headers=headers)
                answer = conn.getresponse()
                answer.read()
                ok = answer.status == expected
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection(host, timeout=60)
                ok = False
            mine.append(time.perf_counter() - started)
            errors += not ok
        with lock:
            row.latencies += mine
            row.errors += errors

    threads = [threading.Thread(target=connection) for _ in range(connections)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    time.sleep(SECONDS)
    stop.set()
    for thread in threads:
        thread.join()
    row.seconds = time.perf_counter() - started
    return row


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))] * 1000 if ordered else 0.0


@dataclass(frozen=True)
class Target:
    name: str
    host: str
    authorization: str  # Bearer for ours, Basic for distribution
    token_path: str | None


def _cases(image: Image) -> list[tuple[str, str, str, int]]:
    layer = sha256(image.layers[0])
    return [("manifest GET (tag)", "GET", "/v2/library/bench/manifests/v1", 200),
            ("manifest HEAD (tag)", "HEAD", "/v2/library/bench/manifests/v1", 200),
            ("manifest GET (digest)", "GET", f"/v2/library/bench/manifests/{image.digest}", 200),
            ("manifest HEAD (digest)", "HEAD", f"/v2/library/bench/manifests/{image.digest}", 200),
            ("blob GET", "GET", f"/v2/library/bench/blobs/{layer}", 0)]


def throughput(work: Path, image: Image, layout: Path) -> None:
    print(f"== Concurrent pulls, {SECONDS:g} s per row: requests/s, latency ms, errors ==")
    print(f"{'target':22} {'request':24} {'conns':>5} {'req/s':>8} {'p50':>8} {'p95':>8} {'p99':>8} {'errors':>6}")
    results: dict[tuple[str, str, int], Row] = {}
    for name, start in (("ours, cache warm", lambda: _ours(work / "warm", [])),
                        ("ours, no cache", lambda: _ours(work / "off", ["--no-cache"])),
                        ("distribution", lambda: _theirs(work / "dist"))):
        with start() as target:
            _timed("skopeo", "copy", "--dest-tls-verify=false", "--dest-creds", "admin:Harbor12345",
                   f"oci:{layout}:v1", f"docker://{target.host}/library/bench:v1")
            cases = _cases(image)
            if target.token_path:
                # First: the rows before leave the pull recorder thousands of pulls to write, and the
                # local emulator takes one DynamoDB request at a time, a token's user read included.
                cases.insert(0, ("token", "GET", target.token_path, 200))
            for label, method, path, expected in cases:
                headers = {"Authorization": target.authorization, "Accept": MANIFEST}
                if label == "token":
                    headers["Authorization"] = "Basic " + _basic()
                wanted = expected or (307 if target.token_path else 200)
                _load(target.host, method, path, headers, wanted, 1)  # warm
                for connections in CONNECTIONS:
                    row = _load(target.host, method, path, headers, wanted, connections)
                    results[(name, label, connections)] = row
                    print(f"{name:22} {label:24} {connections:5} {len(row.latencies) / row.seconds:8.1f} "
                          f"{_percentile(row.latencies, 50):8.1f} {_percentile(row.latencies, 95):8.1f} "
                          f"{_percentile(row.latencies, 99):8.1f} {row.errors:6}", flush=True)
    _ratios(results)


def _ratios(results: dict[tuple[str, str, int], Row]) -> None:
    print("\n-- ours (cache warm) against distribution at 8 connections: throughput and p99 ratios")
    for (name, label, connections), row in results.items():
        theirs = results.get(("distribution", label, connections))
        if name != "ours, cache warm" or connections != 8 or theirs is None or not theirs.latencies:
            continue
        ours_rate, their_rate = len(row.latencies) / row.seconds, len(theirs.latencies) / theirs.seconds
        print(f"{label:24} throughput x{ours_rate / their_rate:.2f}   p99 x"
              f"{_percentile(row.latencies, 99) / max(_percentile(theirs.latencies, 99), 0.001):.2f}")


def _basic() -> str:
    return base64.b64encode(b"admin:Harbor12345").decode()


@contextmanager
def _ours(work: Path, extra: list[str]) -> Iterator[Target]:
    with local_stack(work, *extra) as stack:
        token = requests.get(f"{stack.url}/service/token?scope=repository:library/bench:pull",
                             auth=("admin", "Harbor12345"), timeout=60).json()["token"]
        yield Target("ours", stack.host, f"Bearer {token}", "/service/token?scope=repository:library/bench:pull")


@contextmanager
def _theirs(work: Path) -> Iterator[Target]:
    work.mkdir(parents=True, exist_ok=True)
    with _distribution(work) as host:
        yield Target("distribution", host, "Basic " + _basic(), None)


class RoundTrips:
    """Redis round trips and commands, counted where redis-py writes to the socket."""

    def __init__(self) -> None:
        self.trips = 0
        self.commands: Counter[str] = Counter()

    @contextmanager
    def counting(self) -> Iterator[None]:
        original = redis.connection.Connection.send_packed_command
        trips = self

        def send(connection: Any, command: Any, check_health: bool = True) -> None:
            trips.trips += 1
            raw = b"".join(bytes(part) for part in (command if isinstance(command, list) else [command]))
            for name in re.findall(rb"\*\d+\r\n\$\d+\r\n([A-Za-z]+)\r\n", raw):
                trips.commands[name.decode().upper()] += 1
            return original(connection, command, check_health)

        redis.connection.Connection.send_packed_command = send  # type: ignore[method-assign]
        try:
            yield
        finally:
            redis.connection.Connection.send_packed_command = original  # type: ignore[method-assign]


def _per_request(client: InProcessClient, method: str, path: str, rounds: int,
                 before_each: Callable[[], None] | None = None) -> tuple[str, str, float]:
    """AWS calls, Redis round trips (commands) per request, and the handler's own p50 ms."""
    trips, calls, own = RoundTrips(), Counter(), []
    for _ in range(rounds):
        if before_each:
            before_each()
        with trips.counting(), counting() as usage:
            started = time.perf_counter()
            answer = client.request(method, path)
            own.append(time.perf_counter() - started - usage.seconds)
        assert answer.status in (200, 307), (path, answer.status)
        calls += usage.calls
    aws_calls = ", ".join(f"{k} x{v / rounds:g}" for k, v in sorted(calls.items())) or "none"
    redis_part = f"{trips.trips / rounds:g} ({', '.join(f'{k} x{v / rounds:g}' for k, v in trips.commands.items())})"
    return aws_calls, redis_part, statistics.median(own) * 1000


def calls_and_costs(image: Image) -> None:
    print("\n== In process (moto, a redis-server of its own): per request, bearer token ==")
    work = Path(tempfile.mkdtemp(prefix="bench-redis-"))
    server = RedisServer(work)
    server.start()
    try:
        with in_process_stack() as gw:
            os.environ["REDIS_URL"] = server.url  # after the stack's environment, which has the cache off
            aws.reset()
            cache.reset()
            admin = InProcessClient(gw)
            push_image(admin, "library/bench", "v1", image)
            token = json.loads(admin.request("GET", "/service/token?scope=repository:library/bench:pull").body)["token"]
            client = InProcessClient(gw, f"Bearer {token}")
            rows = pull_requests(image)
            print(f"{'request':24} {'cache':5} {'own ms':>7}  AWS calls; Redis round trips (commands)")
            measured: dict[tuple[str, str], tuple[str, float]] = {}
            for label, method, path in rows:
                client.request(method, path)
                # Cold: the entries invalidated, as right after a push or a project change.
                for state, before in (("warm", None), ("cold", _invalidate_all)):
                    calls, trips, own = _per_request(client, method, path, ROUNDS, before)
                    measured[(label, state)] = (calls, own)
                    print(f"{label:24} {state:5} {own:7.2f}  {calls}; {trips}")
        _costs(measured)
    finally:
        server.stop()
        os.environ.pop("REDIS_URL", None)
        cache.reset()
        shutil.rmtree(work, ignore_errors=True)


def _invalidate_all() -> None:
    cache.invalidate(["repo:library/bench", "project:library"])


def _costs(measured: dict[tuple[str, str], tuple[str, float]]) -> None:
    """USD per million manifest GETs by tag, from the counted calls and the handler's own time (on
    Lambda the time waiting for DynamoDB or Redis is billed too: a few ms, added as 5 ms)."""
    print("\n== Cost model: USD per million manifest GETs by tag on AWS ==")
    for state in ("warm", "cold"):
        calls, own_ms = measured[("GET manifest (tag)", state)]
        # A consistent read of an item under 4 KB is 1 unit; a cold pull's BatchGetItem reads 2 items.
        reads = sum(float(part.rsplit("x", 1)[1]) * (2 if part.startswith("dynamodb.BatchGetItem") else 1)
                    for part in calls.split(", ") if part.startswith(("dynamodb.GetItem", "dynamodb.BatchGetItem")))
        billed_gb_s = API_MEMORY_GB * (own_ms + 5) / 1000
        lines = {
            "API Gateway": PRICES["API Gateway REST requests"],
            "Lambda (API)": PRICES["Lambda requests"] + billed_gb_s * PRICES["Lambda GB-s"],
            "DynamoDB reads (consistent)": reads * PRICES["DynamoDB read units"],
            "DynamoDB writes (recorder)": RECORDER_WRITE_UNITS_PER_PULL * PRICES["DynamoDB write units"],
            f"ElastiCache (about {ECPUS_PER_PULL} ECPUs)": ECPUS_PER_PULL * PRICES["ElastiCache Serverless ECPUs"],
            "SQS (the pull's message)": SQS_REQUESTS_PER_PULL * PRICES["SQS standard requests"],
        }
        print(f"-- cache {state}: " + ", ".join(f"{k} {v:.3f}" for k, v in lines.items())
              + f"; total {sum(lines.values()):.2f}")
    before = 3 * 0.5 * PRICES["DynamoDB read units"] + 4 * 2 * PRICES["DynamoDB write units"]
    print(f"-- before the cache: DynamoDB alone {before:.2f} (3 reads, a 4-item transaction per pull)")


def main() -> None:
    if not shutil.which("docker-registry") or not shutil.which("skopeo") or not shutil.which("redis-server"):
        print("docker-registry, skopeo or redis-server missing: run `make system-tools`")
        return
    image = make_image("bench")
    calls_and_costs(image)
    work = Path(tempfile.mkdtemp(prefix="bench-pull-"))
    try:
        throughput(work, image, write_layout(work / "image", {"v1": image}))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
