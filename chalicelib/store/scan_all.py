"""Scan-all executions: executions of kind `scan_all` (store/executions.py) whose tasks are the scans
they queue (`total` and `fanned_out` once queued); and the schedule's record at PK=SCANALL,
SK=SCHEDULE (its deployed form is an EventBridge schedule)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib.store import executions, metadata
from chalicelib.store.executions import ExecutionRecord

__all__ = ["ExecutionRecord"]

KIND = "scan_all"
_SCHEDULE_KEY = ("SCANALL", "SCHEDULE")


@dataclass(frozen=True)
class Schedule:
    type: str  # Harbor's: Hourly, Daily, Weekly, Custom
    cron: str
    creation_time: str
    update_time: str


def latest(trigger: str = "Any") -> ExecutionRecord | None:
    """The newest execution (of one trigger: Manual or Schedule)."""
    found = (r for r in executions.newest_first(KIND, page_size=1 if trigger == "Any" else 25)
             if trigger in ("Any", r.trigger))
    return next(found, None)


def create(trigger: str) -> str:
    """A new Running execution; its id."""
    return str(executions.create(KIND, trigger, extra={"total": 0}).execution_id)


def update(execution_id: str, **fields: Any) -> None:
    executions.update(KIND, int(execution_id), **fields)


def stop(execution_id: str) -> bool:
    """Stopped, unless it had ended."""
    return executions.stop(KIND, int(execution_id)) is not None


def stopped(execution_id: str) -> bool:
    return executions.stopped(KIND, int(execution_id))


def count(execution_id: str, counter: str) -> None:
    """One more scan started, or finished with status `counter`."""
    executions.count_task(KIND, int(execution_id), counter)


def schedule() -> Schedule | None:
    item = metadata.get(*_SCHEDULE_KEY)
    return Schedule(item["type"], item["cron"], item["creation_time"], item["update_time"]) if item else None


def put_schedule(saved: Schedule) -> None:
    metadata.put({"PK": _SCHEDULE_KEY[0], "SK": _SCHEDULE_KEY[1], "type": saved.type, "cron": saved.cron,
                  "creation_time": saved.creation_time, "update_time": saved.update_time})


def delete_schedule() -> None:
    metadata.delete(*_SCHEDULE_KEY)
