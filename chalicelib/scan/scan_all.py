"""Scan all (/system/scanAll): one execution at a time that queues a scan of every artifact, and
its counters (the metrics endpoints). Schedules are EventBridge Scheduler schedules that send the
same queue message a manual run sends.

Items (docs/data-model.md): executions at PK=SCANALL, SK=EXEC#<id>; pointers to the latest one of
each trigger at PK=SCANALL, SK=LATEST#<trigger> and LATEST#Any; the schedule at PK=SCANALL, SK=SCHEDULE.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from chalicelib import clock, projects, schedules
from chalicelib.registry import records
from chalicelib.store import metadata, queue

SCANALL = "SCANALL"
SCHEDULE_NAME = "scan-all"  # the EventBridge schedule
_SCHEDULE_KEY = (SCANALL, "SCHEDULE")
FINISHED = ("Success", "Error", "Stopped")


class AlreadyRunning(Exception):
    pass


def _execution(item: metadata.Item) -> dict[str, Any]:
    return {k: (int(v) if k in ("total", "started", *FINISHED) else v) for k, v in item.items()
            if k not in ("PK", "SK")}


def latest(trigger: str = "Any") -> dict[str, Any] | None:
    pointer = metadata.get(SCANALL, f"LATEST#{trigger}")
    item = metadata.get(SCANALL, f"EXEC#{pointer['execution_id']}") if pointer else None
    return _execution(item) if item else None


def ongoing(execution: dict[str, Any]) -> bool:
    if execution.get("status") == "Stopped":
        return False
    if not execution.get("fanned_out"):
        return True
    return sum(execution.get(s, 0) for s in FINISHED) < execution.get("total", 0)


def trigger(kind: str) -> str:
    """Start an execution (kind Manual or Schedule): its record, then the fan-out message.
    AlreadyRunning while the previous execution is ongoing."""
    previous = latest()
    if previous and ongoing(previous):
        raise AlreadyRunning(previous["execution_id"])
    execution_id = str(uuid.uuid4())
    metadata.transact([
        metadata.put_op({"PK": SCANALL, "SK": f"EXEC#{execution_id}", "execution_id": execution_id,
                         "trigger": kind, "status": "Running", "start_time": clock.iso(), "total": 0}),
        metadata.put_op({"PK": SCANALL, "SK": "LATEST#Any", "execution_id": execution_id}),
        metadata.put_op({"PK": SCANALL, "SK": f"LATEST#{kind}", "execution_id": execution_id}),
    ])
    queue.send({"kind": "scan_all", "execution_id": execution_id})
    return execution_id


def stop() -> bool:
    current = latest()
    if not current or not ongoing(current):
        return False
    metadata.update(SCANALL, f"EXEC#{current['execution_id']}", "SET #s = :stopped, end_time = :now",
                    {":stopped": "Stopped", ":now": clock.iso()}, names={"#s": "status"})
    return True


def stopped(execution_id: str) -> bool:
    if not execution_id:
        return False
    item = metadata.get(SCANALL, f"EXEC#{execution_id}")
    return bool(item and item.get("status") == "Stopped")


def count(execution_id: str, what: str) -> None:
    """Count a job of the execution as started or finished (Success, Error, Stopped)."""
    if execution_id:
        metadata.update(SCANALL, f"EXEC#{execution_id}", "ADD #c :one", {":one": 1}, names={"#c": what})


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
                if artifact.accessory_of or (artifact.parent_count and not artifact.tags):
                    continue
                total += start_scan(project, repository, artifact, execution_id)
    metadata.update(SCANALL, f"EXEC#{execution_id}", "SET #t = :total, fanned_out = :yes",
                    {":total": total, ":yes": True}, names={"#t": "total"})


def metrics(execution: dict[str, Any] | None) -> dict[str, Any]:
    """Harbor's Stats: totals and counts per status."""
    if execution is None:
        return {"total": 0, "completed": 0, "metrics": {}, "ongoing": False}
    finished = {s: execution.get(s, 0) for s in FINISHED}
    total = max(execution.get("total", 0), sum(finished.values()))
    started = execution.get("started", 0)
    counts = {**finished, "Running": max(0, started - sum(finished.values())),
              "Pending": max(0, total - max(started, sum(finished.values())))}
    return {"total": total, "completed": sum(finished.values()), "metrics": {k: v for k, v in counts.items() if v},
            "ongoing": ongoing(execution), "trigger": execution["trigger"]}


def schedule() -> dict[str, Any] | None:
    """The periodic schedule: type, cron, creation_time, update_time."""
    item = metadata.get(*_SCHEDULE_KEY)
    return {k: item[k] for k in ("type", "cron", "creation_time", "update_time")} if item else None


def save_schedule(kind: str, cron: str) -> None:
    """Deploy the EventBridge schedule, then record it; schedules.InvalidCron when the cron cannot be one."""
    existing = schedule()
    schedules.put(SCHEDULE_NAME, cron, {"kind": "scan_all_scheduled"})
    now = clock.iso()
    metadata.put({"PK": _SCHEDULE_KEY[0], "SK": _SCHEDULE_KEY[1], "type": kind, "cron": cron,
                  "creation_time": existing["creation_time"] if existing else now, "update_time": now})


def delete_schedule() -> None:
    schedules.delete(SCHEDULE_NAME)
    metadata.delete(*_SCHEDULE_KEY)
