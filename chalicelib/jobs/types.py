"""Every kind of queued job and the function that runs it (chalicelib/jobs/kernel.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalicelib.scan import jobs, worker

JOB_TYPES: dict[str, Callable[[dict[str, Any]], None]] = {
    "scan": worker.run_message,  # one artifact, one scanner
    "poll": worker.poll_message,  # an external adapter's report, asked for again later
    "scan_all": jobs.start_scan_all,  # a scan-all execution's fan-out
    "scan_all_scheduled": jobs.start_scheduled_scan_all,  # sent by the scan-all schedule
}
