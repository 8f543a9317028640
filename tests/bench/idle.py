"""`make bench-idle`: what an idle `make run` costs (CPU of the launcher and all its children over 30 s
with no traffic, as a share of one core), how soon the first job after the idle period is picked up
(a queued audit-log purge, from the request to its Success) against the same job on a busy stack, and
the memory an API worker keeps after one 300 MB PATCH (one worker, its RSS before and after)."""

from __future__ import annotations

import hashlib
import os
import statistics
import tempfile
import time
from pathlib import Path

import requests

from tests.support.processes import children_running, descendants
from tests.support.stack import ADMIN, Stack, local_stack

IDLE_SECONDS = 30
_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / _TICKS


def idle_share(stack: Stack) -> float:
    assert stack.process is not None
    pids = descendants(stack.process.pid)
    before, started = _cpu_seconds(pids), time.monotonic()
    time.sleep(IDLE_SECONDS)  # the measurement itself: no traffic for this long
    return (_cpu_seconds(pids) - before) / (time.monotonic() - started)


def job_pickup_seconds(stack: Stack) -> float:
    """From the request of a queued job (an audit-log purge of nothing) to its Success."""
    started = time.monotonic()
    reply = requests.post(f"{stack.url}/api/v2.0/system/purgeaudit/schedule", auth=ADMIN, timeout=60, json={
        "schedule": {"type": "Manual"}, "parameters": {"audit_retention_hour": 24, "include_operations": "pull"}})
    assert reply.status_code == 201, reply.text
    location = reply.headers["Location"]
    while requests.get(f"{stack.url}{location}", auth=ADMIN, timeout=60).json()["job_status"] != "Success":
        assert time.monotonic() - started < 600, "the job never ended"
        time.sleep(0.02)
    return time.monotonic() - started


def _rss_mb(pid: int) -> int:
    return next(int(line.split()[1]) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                if line.startswith("VmRSS")) // 1024


def worker_memory_around_a_large_patch(stack: Stack, size: int = 300 * 1024 * 1024) -> tuple[int, int]:
    """RSS (MB) of the only API worker before and after a blob upload of `size` bytes in one PATCH."""
    assert stack.process is not None
    [worker] = children_running(stack.process.pid, "infra.api_worker")
    before, data = _rss_mb(worker), os.urandom(size)
    with requests.Session() as session:
        session.auth = ADMIN
        location = session.post(f"{stack.url}/v2/library/big/blobs/uploads/", timeout=600).headers["Location"]
        patched = session.patch(f"{stack.url}{location}", data=data, timeout=600,
                                headers={"Content-Type": "application/octet-stream"})
        assert patched.status_code == 202, patched.text
        digest = f"sha256:{hashlib.sha256(data).hexdigest()}"
        put = session.put(f"{stack.url}{patched.headers['Location']}?digest={digest}", timeout=600)
        assert put.status_code == 201, put.text
    return before, _rss_mb(worker)


def main() -> None:
    with tempfile.TemporaryDirectory() as work:
        with local_stack(Path(work) / "idle") as stack:
            time.sleep(5)  # the start's own saves and first schedules settle before the measurement
            share = idle_share(stack)
            after_idle = job_pickup_seconds(stack)
            busy = [job_pickup_seconds(stack) for _ in range(5)]
        with local_stack(Path(work) / "memory", "--workers", "1") as stack:
            before, after = worker_memory_around_a_large_patch(stack)
    print(f"idle make run, all processes: {share * 100:.1f}% of one core over {IDLE_SECONDS} s (target < 2%)")
    print(f"first queued job after idle: {after_idle * 1000:.0f} ms to Success; "
          f"the same job on a busy stack: median {statistics.median(busy) * 1000:.0f} ms")
    print(f"API worker RSS: {before} MB before a 300 MB PATCH, {after} MB after it")


if __name__ == "__main__":
    main()
