"""System jobs as Harbor's Administration pages run them (garbage collection, audit-log purge): one
execution at a time, started by hand (trigger MANUAL) or by the job's EventBridge schedule (SCHEDULE),
stopped on request, its log in S3, the newest 50 ended executions kept. Each job says how its
parameters are checked and how an execution's work begins (a state machine, a queued job)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib import clock, schedules
from chalicelib.errors import Conflict
from chalicelib.jobs import logs
from chalicelib.observability import logger
from chalicelib.store import executions
from chalicelib.store.executions import ERROR, RUNNING, STOPPED, ExecutionRecord

__all__ = ["ERROR", "RUNNING", "STOPPED", "ExecutionRecord"]

KEEP = 50  # Harbor's execution sweeper keeps the newest 50 of a kind
MANUAL, SCHEDULE = "MANUAL", "SCHEDULE"


@dataclass(frozen=True)
class SystemJob:
    kind: str  # of its executions, and the name of its schedule
    vendor: str  # Harbor's job_name
    title: str  # for messages
    launch: Callable[[ExecutionRecord], None]  # begins an execution's work


class AlreadyRunning(Conflict):
    def __init__(self, job: SystemJob) -> None:
        super().__init__(f"a previous {job.title} job is still running")


def log_prefix(job: SystemJob, execution_id: int) -> str:
    return f"jobs/{job.kind}/{execution_id}/"


def parameters_of(execution: ExecutionRecord) -> dict[str, Any]:
    return json.loads(execution.extra.get("parameters") or "{}")


def schedule_type_of(execution: ExecutionRecord) -> str:
    return str(execution.extra.get("schedule_type") or "Manual")


def running(job: SystemJob) -> ExecutionRecord | None:
    newest = next(executions.newest_first(job.kind, page_size=1), None)
    return newest if newest and newest.status == RUNNING else None


def start(job: SystemJob, trigger: str, parameters: dict[str, Any], schedule_type: str = "Manual") -> ExecutionRecord:
    """A new execution, its work begun; AlreadyRunning while the previous one runs. An execution whose
    work could not begin ends as Error at once. `schedule_type`: Manual, or the type of the schedule
    that started it (Harbor's API shows it)."""
    if running(job):
        raise AlreadyRunning(job)
    execution = executions.create(job.kind, trigger, extra={"parameters": json.dumps(parameters),
                                                            "schedule_type": schedule_type})
    try:
        job.launch(execution)
    except Exception:
        logger.exception("system job could not start", extra={"kind": job.kind, "id": execution.execution_id})
        execution = finish(job, execution.execution_id, ERROR, "the job could not be started")
    executions.sweep(job.kind, keep=KEEP, forget=lambda old: logs.forget_parts(log_prefix(job, old.execution_id)))
    return execution


def start_scheduled(job: SystemJob) -> None:
    """What the job's schedule sends: an execution with the saved parameters, unless one runs."""
    saved = schedules.saved(job.kind)
    if saved is None:
        return
    try:
        start(job, SCHEDULE, json.loads(saved.parameters), saved.type)
    except AlreadyRunning:
        logger.info("scheduled system job skipped: the previous one still runs", extra={"kind": job.kind})


def finish(job: SystemJob, execution_id: int, status: str, status_text: str = "") -> ExecutionRecord:
    """End the execution, unless it was stopped meanwhile (a stop stands)."""
    return executions.finish_running(job.kind, execution_id, status, status_text) or get(job, execution_id)  # type: ignore[return-value]


def get(job: SystemJob, execution_id: int) -> ExecutionRecord | None:
    return executions.get(job.kind, execution_id)


def history(job: SystemJob) -> Iterator[ExecutionRecord]:
    """Newest first; at most KEEP ended ones and the running one."""
    return executions.newest_first(job.kind)


def stop(job: SystemJob, execution_id: int) -> bool:
    """False when there is no such execution; an ended one stays as it ended."""
    if get(job, execution_id) is None:
        return False
    executions.stop(job.kind, execution_id)
    return True


def stopped(job: SystemJob, execution_id: int) -> bool:
    return executions.stopped(job.kind, execution_id)


def add_counts(job: SystemJob, execution_id: int, counts: dict[str, int]) -> None:
    """Add to the execution's counters (`tasks_<name>`, one write): the Map's tasks report side by side."""
    executions.add_counts(job.kind, execution_id, counts)


def write_log(job: SystemJob, execution_id: int, part: str, lines: list[str]) -> None:
    logs.write_part(log_prefix(job, execution_id), part, lines)


def read_log(job: SystemJob, execution_id: int) -> str | None:
    return logs.read_parts(log_prefix(job, execution_id))


def save_schedule(job: SystemJob, kind: str, cron: str, parameters: dict[str, Any]) -> None:
    """Replace the job's schedule; schedules.InvalidCron when EventBridge cannot run the cron."""
    schedules.save(job.kind, kind, cron, {"kind": "system_job", "job": job.kind}, parameters)


def delete_schedule(job: SystemJob) -> None:
    schedules.remove(job.kind)


def schedule(job: SystemJob) -> schedules.SavedSchedule | None:
    return schedules.saved(job.kind)


def next_run(saved: schedules.SavedSchedule) -> datetime | None:
    return schedules.next_time(saved.cron, clock.now())
