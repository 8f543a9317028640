"""EventBridge Scheduler schedules that send a message to the job queue, named after the stack, and
the record of what each was saved as (PK=SCHEDULE, SK=<name>: Harbor's type and cron, the job's
parameters as JSON, creation and update times) for the jobs that keep theirs here."""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from typing import Any

from chalicelib.aws import client
from chalicelib.config import settings
from chalicelib.store import metadata

_RECORDS = "SCHEDULE"


@dataclass(frozen=True)
class SavedSchedule:
    name: str
    type: str  # Harbor's: Hourly, Daily, Weekly, Custom
    cron: str  # Harbor's 6 fields
    parameters: str  # JSON
    creation_time: str
    update_time: str


def saved(name: str) -> SavedSchedule | None:
    item = metadata.get(_RECORDS, name, consistent=True)
    return SavedSchedule(name, item["type"], item["cron"], item.get("parameters", "{}"), item["creation_time"],
                         item["update_time"]) if item else None


def save(schedule: SavedSchedule) -> None:
    metadata.put({"PK": _RECORDS, "SK": schedule.name, "type": schedule.type, "cron": schedule.cron,
                  "parameters": schedule.parameters, "creation_time": schedule.creation_time,
                  "update_time": schedule.update_time})


def forget(name: str) -> None:
    metadata.delete(_RECORDS, name)


def deployed_name(name: str) -> str:
    """The schedule's name in the account: the stack's prefix, then the job's name."""
    return f"{settings().schedule_name_prefix}-{name}"


def put(name: str, expression: str, message: dict[str, Any]) -> None:
    """Create or replace the schedule that sends `message` to the job queue at `expression`."""
    cfg = settings()
    args = {"Name": deployed_name(name), "ScheduleExpression": expression,
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "Target": {"Arn": cfg.scan_queue_arn, "RoleArn": cfg.scheduler_role_arn, "Input": json.dumps(message)}}
    scheduler = client("scheduler")
    try:
        scheduler.update_schedule(**args)
    except scheduler.exceptions.ResourceNotFoundException:
        scheduler.create_schedule(**args)


def delete(name: str) -> None:
    scheduler = client("scheduler")
    with contextlib.suppress(scheduler.exceptions.ResourceNotFoundException):
        scheduler.delete_schedule(Name=deployed_name(name))
