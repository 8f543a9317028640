"""Scan-all executions and their schedule: executions at PK=SCANALL, SK=EXEC#<id>; pointers to the
latest one of each trigger at PK=SCANALL, SK=LATEST#<trigger> and LATEST#Any; the schedule at
PK=SCANALL, SK=SCHEDULE. An execution reads as a dict of its attributes (its counters as ints)."""

from __future__ import annotations

from typing import Any

from chalicelib.store import metadata

SCANALL = "SCANALL"
_SCHEDULE_KEY = (SCANALL, "SCHEDULE")
COUNTERS = ("total", "started", "Success", "Error", "Stopped")


def _key(execution_id: str) -> tuple[str, str]:
    return SCANALL, f"EXEC#{execution_id}"


def _execution(item: metadata.Item) -> dict[str, Any]:
    return {k: (int(v) if k in COUNTERS else v) for k, v in item.items() if k not in ("PK", "SK")}


def get(execution_id: str) -> dict[str, Any] | None:
    item = metadata.get(*_key(execution_id))
    return _execution(item) if item else None


def latest(trigger: str = "Any") -> dict[str, Any] | None:
    pointer = metadata.get(SCANALL, f"LATEST#{trigger}")
    return get(pointer["execution_id"]) if pointer else None


def create(execution_id: str, trigger: str, start_time: str) -> None:
    """The execution, and the latest pointers of its trigger and of any trigger, at once."""
    pk, sk = _key(execution_id)
    metadata.transact([
        metadata.put_op({"PK": pk, "SK": sk, "execution_id": execution_id, "trigger": trigger, "status": "Running",
                         "start_time": start_time, "total": 0}),
        metadata.put_op({"PK": SCANALL, "SK": "LATEST#Any", "execution_id": execution_id}),
        metadata.put_op({"PK": SCANALL, "SK": f"LATEST#{trigger}", "execution_id": execution_id}),
    ])


def update(execution_id: str, **fields: Any) -> None:
    metadata.set_fields(*_key(execution_id), fields, must_exist=False)


def count(execution_id: str, counter: str) -> None:
    """One more job started, or finished with status `counter`."""
    metadata.set_fields(*_key(execution_id), {}, add={counter: 1}, must_exist=False)


def schedule() -> metadata.Item | None:
    return metadata.get(*_SCHEDULE_KEY)


def put_schedule(kind: str, cron: str, creation_time: str, update_time: str) -> None:
    metadata.put({"PK": _SCHEDULE_KEY[0], "SK": _SCHEDULE_KEY[1], "type": kind, "cron": cron,
                  "creation_time": creation_time, "update_time": update_time})


def delete_schedule() -> None:
    metadata.delete(*_SCHEDULE_KEY)
