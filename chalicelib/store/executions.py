"""Executions of every kind of job (Harbor's src/pkg/task executions): one item each at
PK=EXECUTION#<kind>#<id>, SK=EXECUTION, with the fields every execution has (status, trigger, start
and end time, status text), the counts of its tasks per status (`tasks_<status>`, added to as tasks
end) and the attributes its kind adds. GSI1PK=EXECUTIONS#<kind>[#<owner>], GSI1SK=<start time>#<id>
lists a kind's executions (or one owner's) newest first. Ids come from the counter named after the
kind, so each kind numbers its executions from 1 (Harbor's API shows them).

The CVE export (store/export_executions.py), scan-all (store/scan_all.py), garbage collection and the
audit-log purge (chalicelib/operations/) keep theirs here.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from chalicelib import clock
from chalicelib.store import metadata

RUNNING, SUCCESS, ERROR, STOPPED = "Running", "Success", "Error", "Stopped"
FINAL = (SUCCESS, ERROR, STOPPED)
_COMMON = ("kind", "execution_id", "trigger", "status", "start_time", "end_time", "status_text", "owner")
_TASKS = "tasks_"
_TASK = "TASK#"


@dataclass(frozen=True)
class ExecutionRecord:
    kind: str
    execution_id: int
    trigger: str  # MANUAL, SCHEDULE, EVENT (Harbor's), or the kind's own words
    status: str
    start_time: str
    end_time: str = ""
    status_text: str = ""
    owner: str = ""  # who started it, when its kind lists executions per owner
    tasks: dict[str, int] = field(default_factory=dict)  # tasks per status
    extra: dict[str, Any] = field(default_factory=dict)  # what the kind keeps besides


def _key(kind: str, execution_id: int) -> tuple[str, str]:
    return f"EXECUTION#{kind}#{execution_id}", "EXECUTION"


def _listing(kind: str, owner: str) -> str:
    return f"EXECUTIONS#{kind}" + (f"#{owner}" if owner else "")


def _record(item: metadata.Item) -> ExecutionRecord:
    tasks = {k[len(_TASKS):]: int(v) for k, v in item.items() if k.startswith(_TASKS)}
    extra = {k: v for k, v in item.items()
             if k not in _COMMON and not k.startswith(_TASKS) and k not in ("PK", "SK", "GSI1PK", "GSI1SK")}
    return ExecutionRecord(item["kind"], int(item["execution_id"]), item.get("trigger", ""), item["status"],
                           item["start_time"], item.get("end_time", ""), item.get("status_text", ""),
                           item.get("owner", ""), tasks, extra)


def create(kind: str, trigger: str, *, owner: str = "", extra: dict[str, Any] | None = None) -> ExecutionRecord:
    """A new Running execution."""
    execution_id = metadata.next_id(kind)
    now = clock.iso()
    pk, sk = _key(kind, execution_id)
    item = {"PK": pk, "SK": sk, "kind": kind, "execution_id": execution_id, "trigger": trigger, "status": RUNNING,
            "start_time": now, "owner": owner or None, **(extra or {}),
            "GSI1PK": _listing(kind, owner), "GSI1SK": f"{now}#{execution_id:012d}"}
    metadata.put(item, if_absent=True)
    return _record({k: v for k, v in item.items() if v is not None})


def get(kind: str, execution_id: int) -> ExecutionRecord | None:
    item = metadata.get(*_key(kind, execution_id), consistent=True)
    return _record(item) if item else None


def newest_first(kind: str, owner: str = "", *, page_size: int = 500) -> Iterator[ExecutionRecord]:
    """A kind's (or an owner's) executions, newest first, read `page_size` at a time."""
    return (_record(i) for i in metadata.iterate(_listing(kind, owner), index="GSI1", descending=True,
                                                  page_size=page_size))


def update(kind: str, execution_id: int, **fields: Any) -> ExecutionRecord:
    """Set common fields (status, end_time, status_text) or the kind's own; ConditionFailed when the
    execution is gone."""
    return _record(metadata.set_fields(*_key(kind, execution_id), fields))


def finish(kind: str, execution_id: int, status: str, status_text: str = "", **fields: Any) -> ExecutionRecord:
    return update(kind, execution_id, status=status, end_time=clock.iso(), status_text=status_text[:1000],
                  **fields)


def finish_running(kind: str, execution_id: int, status: str, status_text: str = "") -> ExecutionRecord | None:
    """End the execution only while it runs (a stop, or an earlier end, stands); None when it had ended."""
    return update_if(kind, execution_id, {"status": RUNNING}, status=status, end_time=clock.iso(),
                     status_text=status_text[:1000])


def update_if(kind: str, execution_id: int, expected: dict[str, Any], **fields: Any) -> ExecutionRecord | None:
    """Set fields only while the execution's attributes hold the `expected` values; None otherwise."""
    try:
        item = metadata.set_fields(*_key(kind, execution_id), fields, expected=expected)
    except metadata.ConditionFailed:
        return None
    return _record(item)


def stop(kind: str, execution_id: int) -> ExecutionRecord | None:
    """Stopped, with its end time, only while it runs; None when it had already ended (or is gone).
    Its workers see it (`stopped`) between their steps and end there."""
    return update_if(kind, execution_id, {"status": RUNNING}, status=STOPPED, end_time=clock.iso())


def stopped(kind: str, execution_id: int) -> bool:
    record = get(kind, execution_id)
    return record is not None and record.status == STOPPED


def sweep(kind: str, *, keep: int, owner: str = "",
          counted: Callable[[ExecutionRecord], bool] = lambda record: True,
          forget: Callable[[ExecutionRecord], None] = lambda record: None) -> int:
    """Delete a kind's (or an owner's) ended executions beyond the newest `keep` of those `counted`
    (Harbor's execution sweeper); `forget` removes what one left elsewhere (files) before its record
    goes, so a failure leaves the record to sweep again. Returns how many went."""
    ended = (r for r in newest_first(kind, owner) if r.status in FINAL and counted(r))
    swept = 0
    for index, record in enumerate(ended):
        if index >= keep:
            forget(record)
            delete(kind, record.execution_id)
            swept += 1
    return swept


def count_task(kind: str, execution_id: int, status: str) -> None:
    """One more task of the execution started (`status` "started") or ended with `status`; nothing when
    the execution is gone."""
    add_counts(kind, execution_id, {status: 1})


def add_counts(kind: str, execution_id: int, counts: dict[str, int], **fields: Any) -> None:
    """Add to several of the execution's counts and set `fields`, in one write (a task reporting what it
    did); nothing when the execution is gone."""
    added = {f"{_TASKS}{name}": value for name, value in counts.items() if value}
    if added or fields:
        with contextlib.suppress(metadata.ConditionFailed):
            metadata.set_fields(*_key(kind, execution_id), fields, add=added)


def delete(kind: str, execution_id: int) -> None:
    """The execution, its tasks and its notes."""
    pk, sk = _key(kind, execution_id)
    metadata.batch_delete([(pk, item["SK"]) for item in metadata.iterate(pk, attributes=("PK", "SK"))
                           if item["SK"] != sk])
    with contextlib.suppress(metadata.ConditionFailed):
        metadata.delete(pk, sk)


@dataclass(frozen=True)
class TaskRecord:
    """One task of an execution, for kinds that list theirs (replication): SK=TASK#<id>, in the
    execution's partition, so the list is one Query and goes with the execution."""

    task_id: int
    status: str
    start_time: str = ""
    end_time: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)  # what the kind keeps (resources, the work)


def _task_key(kind: str, execution_id: int, task_id: int) -> tuple[str, str]:
    return _key(kind, execution_id)[0], f"{_TASK}{task_id:06d}"


def add_tasks(kind: str, execution_id: int, tasks: list[TaskRecord]) -> None:
    pk, _ = _key(kind, execution_id)
    metadata.batch_put({"PK": pk, "SK": _task_key(kind, execution_id, t.task_id)[1], "task_id": t.task_id,
                        "status": t.status, "start_time": t.start_time, "end_time": t.end_time, **t.attributes}
                       for t in tasks)


def _task(item: metadata.Item) -> TaskRecord:
    attributes = {k: v for k, v in item.items()
                  if k not in ("PK", "SK", "task_id", "status", "start_time", "end_time")}
    return TaskRecord(int(item["task_id"]), item["status"], item.get("start_time", ""), item.get("end_time", ""),
                      attributes)


def tasks(kind: str, execution_id: int) -> Iterator[TaskRecord]:
    return (_task(item) for item in metadata.iterate(_key(kind, execution_id)[0], _TASK))


def get_task(kind: str, execution_id: int, task_id: int) -> TaskRecord | None:
    item = metadata.get(*_task_key(kind, execution_id, task_id), consistent=True)
    return _task(item) if item else None


def update_task(kind: str, execution_id: int, task_id: int, **fields: Any) -> None:
    with contextlib.suppress(metadata.ConditionFailed):
        metadata.set_fields(*_task_key(kind, execution_id, task_id), fields)


def note(kind: str, execution_id: int, key: str, value: str) -> None:
    """Remember something for the execution's other tasks (SK=NOTE#<key>; goes with the execution)."""
    metadata.put({"PK": _key(kind, execution_id)[0], "SK": f"NOTE#{key}", "value": value})


def noted(kind: str, execution_id: int, key: str) -> str | None:
    item = metadata.get(_key(kind, execution_id)[0], f"NOTE#{key}")
    return item["value"] if item else None
