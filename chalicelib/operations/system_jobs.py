"""System jobs as Harbor's Administration pages run them (garbage collection, audit-log purge): one
execution at a time, started by hand (trigger MANUAL) or by the job's EventBridge schedule (SCHEDULE),
stopped on request, its log in S3, the newest 50 ended executions kept. Each job says how its
parameters are checked, how an execution's work begins (a state machine, a queued job) and how to tell
that its work still goes on: an execution whose worker is gone (a crash, a restart of the local stack)
ends Error when next looked at, so it never blocks the next run."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib import clock, schedules
from chalicelib.config import settings
from chalicelib.errors import Conflict
from chalicelib.jobs import logs
from chalicelib.observability import logger
from chalicelib.store import executions, workflows
from chalicelib.store.executions import ERROR, RUNNING, STOPPED, ExecutionRecord

__all__ = ["ERROR", "RUNNING", "STOPPED", "ExecutionRecord"]

KEEP = 50  # Harbor's execution sweeper keeps the newest 50 of a kind
MANUAL, SCHEDULE = "MANUAL", "SCHEDULE"


@dataclass(frozen=True)
class SystemJob:
    kind: str  # of its executions, and the name of its schedule
    vendor: str  # Harbor's job_name
    title: str  # for messages
    # Begins an execution's work; returns what to keep in the execution about it (a state machine's
    # execution ARN: `workflow_alive`).
    launch: Callable[[ExecutionRecord], dict[str, str]]
    alive: Callable[[ExecutionRecord], bool]  # whether a Running execution's work still goes on


LOST = "the job's worker stopped without finishing it (the registry may have restarted)"
_LAUNCH_GRACE_SECONDS = 10  # between an execution's record and its state machine's start (one request)


def _started(execution: ExecutionRecord) -> float:
    return clock.parse(execution.start_time).timestamp()


def heard_from_lately(execution: ExecutionRecord) -> bool:
    """`alive` for a job whose steps report progress (`progress`): one was heard from within
    system_job_stale_seconds (or the execution began that recently)."""
    last = max(float(execution.extra.get("heartbeat") or 0), _started(execution))
    return time.time() - last < settings().system_job_stale_seconds


def workflow_alive(execution: ExecutionRecord) -> bool:
    """`alive` for a job run by a state machine (its launch keeps `workflow_arn`): that execution runs,
    or is just being started."""
    arn = execution.extra.get("workflow_arn")
    if not arn:
        return time.time() - _started(execution) < _LAUNCH_GRACE_SECONDS
    return workflows.status(arn) == "RUNNING"


class AlreadyRunning(Conflict):
    def __init__(self, job: SystemJob) -> None:
        super().__init__(f"a previous {job.title} job is still running")


def log_prefix(job: SystemJob, execution_id: int) -> str:
    return f"jobs/{job.kind}/{execution_id}/"


def parameters_of(execution: ExecutionRecord) -> dict[str, Any]:
    return json.loads(execution.extra.get("parameters") or "{}")


def schedule_type_of(execution: ExecutionRecord) -> str:
    return str(execution.extra.get("schedule_type") or "Manual")


def _settled(job: SystemJob, execution: ExecutionRecord) -> ExecutionRecord:
    """The execution, ended Error first when it reads Running but its work is gone."""
    if execution.status != RUNNING or job.alive(execution):
        return execution
    logger.warning("system job lost its worker: ended Error", extra={"kind": job.kind, "id": execution.execution_id})
    write_log(job, execution.execution_id, "lost", [logs.line(LOST)])
    return finish(job, execution.execution_id, ERROR, LOST)


def running(job: SystemJob) -> ExecutionRecord | None:
    newest = next(executions.newest_first(job.kind, page_size=1), None)
    newest = _settled(job, newest) if newest else None
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
        if kept := job.launch(execution):
            execution = executions.update(job.kind, execution.execution_id, **kept)
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
    """As its workers see it."""
    return executions.get(job.kind, execution_id)


def look_up(job: SystemJob, execution_id: int) -> ExecutionRecord | None:
    """As the API shows it: ended Error when its work is gone."""
    found = get(job, execution_id)
    return _settled(job, found) if found else None


def history(job: SystemJob) -> Iterator[ExecutionRecord]:
    """Newest first; at most KEEP ended ones and the running one."""
    return (_settled(job, execution) for execution in executions.newest_first(job.kind))


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


def progress(job: SystemJob, execution_id: int, counts: dict[str, int]) -> None:
    """A step's sign of life (`heard_from_lately`) and its counts, in one write."""
    executions.add_counts(job.kind, execution_id, counts, heartbeat=int(time.time()))


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
