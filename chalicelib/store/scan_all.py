"""Scan-all executions: executions of kind `scan_all` (store/executions.py) whose tasks are the scans
they queue (`total` once fanned out, `fanned_out`), read as a dict of their attributes; and the
schedule's record at PK=SCANALL, SK=SCHEDULE (its deployed form is an EventBridge schedule)."""

from __future__ import annotations

from typing import Any

from chalicelib.store import executions, metadata

KIND = "scan_all"
_SCHEDULE_KEY = ("SCANALL", "SCHEDULE")


def _execution(record: executions.ExecutionRecord) -> dict[str, Any]:
    return {"execution_id": str(record.execution_id), "trigger": record.trigger, "status": record.status,
            "start_time": record.start_time, "end_time": record.end_time, **record.extra, **record.tasks,
            "total": int(record.extra.get("total", 0))}


def get(execution_id: str) -> dict[str, Any] | None:
    record = executions.get(KIND, int(execution_id))
    return _execution(record) if record else None


def latest(trigger: str = "Any") -> dict[str, Any] | None:
    """The newest execution (of one trigger: Manual or Schedule)."""
    found = (r for r in executions.newest_first(KIND, page_size=1 if trigger == "Any" else 25)
             if trigger in ("Any", r.trigger))
    record = next(found, None)
    return _execution(record) if record else None


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


def schedule() -> metadata.Item | None:
    return metadata.get(*_SCHEDULE_KEY)


def put_schedule(kind: str, cron: str, creation_time: str, update_time: str) -> None:
    metadata.put({"PK": _SCHEDULE_KEY[0], "SK": _SCHEDULE_KEY[1], "type": kind, "cron": cron,
                  "creation_time": creation_time, "update_time": update_time})


def delete_schedule() -> None:
    metadata.delete(*_SCHEDULE_KEY)
