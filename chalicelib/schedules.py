"""Periodic jobs as EventBridge Scheduler schedules that send a message to the job queue.

Harbor's schedules are 6-field cron expressions (seconds first, day of week 0-6 from Sunday);
EventBridge wants cron(minutes hours day-of-month month day-of-week year) with 1-7 from Sunday and
one of the two day fields '?'.
"""

from __future__ import annotations

import re
from typing import Any

from chalicelib.errors import Invalid
from chalicelib.store import schedules as store
from chalicelib.store.schedules import delete, deployed_name

__all__ = ["delete", "deployed_name"]

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


def put(name: str, cron: str, message: dict[str, Any]) -> None:
    """Create or replace the schedule that sends `message` to the job queue; InvalidCron for a cron
    EventBridge cannot run."""
    store.put(name, to_eventbridge(cron), message)
