"""Scan all (/system/scanAll): one execution at a time that queues a scan of every artifact, and
its counters (the metrics endpoints). Schedules are EventBridge Scheduler schedules that send the
same queue message a manual run sends. Executions and the schedule's record: chalicelib/store/scan_all.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalicelib import clock, projects, schedules
from chalicelib.errors import Conflict
from chalicelib.jobs import kernel
from chalicelib.registry import records
from chalicelib.store import scan_all as store
from chalicelib.store.executions import FINAL, STOPPED
from chalicelib.store.scan_all import ExecutionRecord, Schedule, latest, schedule

__all__ = ["Schedule", "latest", "schedule"]

SCHEDULE_NAME = "scan-all"  # the EventBridge schedule


class AlreadyRunning(Conflict):
    def __init__(self) -> None:
        super().__init__("a previous scan all job is still running")


def _total(execution: ExecutionRecord) -> int:
    return int(execution.extra.get("total", 0))


def _finished(execution: ExecutionRecord) -> dict[str, int]:
    return {status: execution.tasks.get(status, 0) for status in FINAL}


def ongoing(execution: ExecutionRecord) -> bool:
    if execution.status == STOPPED:
        return False
    if not execution.extra.get("fanned_out"):
        return True
    return sum(_finished(execution).values()) < _total(execution)


def trigger(kind: str) -> str:
    """Start an execution (kind Manual or Schedule): its record, then the fan-out message.
    AlreadyRunning while the previous execution is ongoing."""
    previous = latest()
    if previous and ongoing(previous):
        raise AlreadyRunning
    execution_id = store.create(kind)
    kernel.enqueue({"kind": "scan_all", "execution_id": execution_id})
    return execution_id


def stop() -> bool:
    current = latest()
    if not current or not ongoing(current):
        return False
    return store.stop(str(current.execution_id))


def stopped(execution_id: str) -> bool:
    return bool(execution_id) and store.stopped(execution_id)


def count(execution_id: str, what: str) -> None:
    """Count a job of the execution as started or finished (Success, Error, Stopped)."""
    if execution_id:
        store.count(execution_id, what)


StartScan = Callable[[projects.Project, str, records.Artifact, str], int]


def fan_out(execution_id: str, start_scan: StartScan) -> None:
    """Queue a scan of every artifact of every project (accessories and index children excepted:
    an index's scan covers its children)."""
    total = 0
    for project in projects.iter_projects():
        for repository in projects.repository_names(project.name):
            if stopped(execution_id):  # checked per repository: one read, not one per artifact
                return
            for artifact in records.iter_artifacts(repository):
                if records.listed(artifact):
                    total += start_scan(project, repository, artifact, execution_id)
    store.update(execution_id, total=total, fanned_out=True)


def metrics(execution: ExecutionRecord | None) -> dict[str, Any]:
    """Harbor's Stats: totals and counts per status."""
    if execution is None:
        return {"total": 0, "completed": 0, "metrics": {}, "ongoing": False}
    finished = _finished(execution)
    total = max(_total(execution), sum(finished.values()))
    started = execution.tasks.get("started", 0)
    counts = {**finished, "Running": max(0, started - sum(finished.values())),
              "Pending": max(0, total - max(started, sum(finished.values())))}
    return {"total": total, "completed": sum(finished.values()), "metrics": {k: v for k, v in counts.items() if v},
            "ongoing": ongoing(execution), "trigger": execution.trigger}


def save_schedule(kind: str, cron: str) -> None:
    """Deploy the EventBridge schedule, then record it; schedules.InvalidCron when the cron cannot be one."""
    existing = schedule()
    schedules.put(SCHEDULE_NAME, cron, {"kind": "scan_all_scheduled"})
    now = clock.iso()
    store.put_schedule(Schedule(kind, cron, existing.creation_time if existing else now, now))


def delete_schedule() -> None:
    schedules.delete(SCHEDULE_NAME)
    store.delete_schedule()
