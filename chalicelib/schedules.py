"""Periodic jobs as EventBridge Scheduler schedules that send a message to the job queue.

Harbor's schedules are 6-field cron expressions (seconds first, day of week 0-6 from Sunday);
EventBridge wants cron(minutes hours day-of-month month day-of-week year) with 1-7 from Sunday and
one of the two day fields '?'.
"""

from __future__ import annotations

import contextlib
import json
import re
from typing import Any

from chalicelib.aws import client
from chalicelib.config import settings
from chalicelib.errors import Invalid

PRESETS = {"Hourly": "0 0 * * * *", "Daily": "0 0 0 * * *", "Weekly": "0 0 0 * * 0"}
_FIELD = re.compile(r"(\*|\?|[0-9]+(-[0-9]+)?(/[0-9]+)?|\*/[0-9]+)(,[0-9]+(-[0-9]+)?)*")


class InvalidCron(Invalid):
    pass


def _weekday(field: str) -> str:
    return re.sub(r"[0-9]+", lambda m: str(int(m.group()) % 7 + 1), field)


def to_eventbridge(cron: str) -> str:
    """Harbor's cron as an EventBridge schedule expression; InvalidCron when it cannot be one."""
    fields = cron.split()
    if len(fields) != 6 or not all(_FIELD.fullmatch(f) for f in fields):
        raise InvalidCron(f"invalid cron expression: {cron[:100]}")
    seconds, minutes, hours, day, month, weekday = fields
    if seconds != "0":
        raise InvalidCron("schedules run on whole minutes: the seconds field must be 0")
    if weekday in ("*", "?"):
        weekday = "?"
    else:
        day, weekday = "?", _weekday(weekday)
    return f"cron({minutes} {hours} {day} {month} {weekday} *)"


def deployed_name(name: str) -> str:
    """The schedule's name in the account: the stack's prefix, then the job's name."""
    return f"{settings().schedule_name_prefix}-{name}"


def put(name: str, cron: str, message: dict[str, Any]) -> None:
    """Create or replace the schedule that sends `message` to the job queue."""
    cfg = settings()
    args = {"Name": deployed_name(name), "ScheduleExpression": to_eventbridge(cron),
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
