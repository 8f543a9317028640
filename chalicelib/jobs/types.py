"""Every kind of queued job and the function that runs it (chalicelib/jobs/kernel.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalicelib.operations import audit_purge, gc, system_jobs
from chalicelib.replication import triggers
from chalicelib.scan import jobs, worker

SYSTEM_JOBS = {job.kind: job for job in (gc.JOB, audit_purge.JOB)}


def _scheduled_system_job(message: dict[str, Any]) -> None:
    system_jobs.start_scheduled(SYSTEM_JOBS[message["job"]])


JOB_TYPES: dict[str, Callable[[dict[str, Any]], None]] = {
    "scan": worker.run_message,  # one artifact, one scanner
    "poll": worker.poll_message,  # an external adapter's report, asked for again later
    "scan_all": jobs.start_scan_all,  # a scan-all execution's fan-out
    "scan_all_scheduled": jobs.start_scheduled_scan_all,  # sent by the scan-all schedule
    "system_job": _scheduled_system_job,  # sent by a system job's schedule (garbage collection, audit purge)
    "purge_audit": audit_purge.run_step,  # one step of an audit-log purge
    "replication_scheduled": triggers.run_scheduled,  # sent by a scheduled replication policy's schedule
    "replication_event": triggers.run_event,  # a push or deletion that event-based policies may replicate
}
