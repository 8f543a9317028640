"""Periodic jobs as EventBridge Scheduler schedules that send a message to the job queue.

Harbor's schedules are 6-field cron expressions (seconds first, day of week 0-6 from Sunday);
EventBridge wants cron(minutes hours day-of-month month day-of-week year) with 1-7 from Sunday and
one of the two day fields '?'.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any

from chalicelib import clock
from chalicelib.errors import Invalid
from chalicelib.store import schedules as store
from chalicelib.store.schedules import SavedSchedule, delete, deployed_name, saved

__all__ = ["SavedSchedule", "delete", "deployed_name", "saved"]

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


def save(name: str, kind: str, cron: str, message: dict[str, Any], parameters: dict[str, Any]) -> None:
    """Deploy the schedule, then record it with the job's parameters; InvalidCron for a cron EventBridge
    cannot run (nothing changes then)."""
    existing = store.saved(name)
    put(name, cron, message)
    now = clock.iso()
    store.save(SavedSchedule(name, kind, cron, json.dumps(parameters), existing.creation_time if existing else now,
                             now))


def remove(name: str) -> None:
    delete(name)
    store.forget(name)


def next_time(cron: str, after: datetime) -> datetime | None:
    """The first whole minute after `after` the schedule fires (within a year; None when it never does):
    days first, then hours, then minutes, so a yearly schedule costs a few hundred checks, not 500,000."""
    minutes, hours, day, month, weekday, year = _fields(to_eventbridge(cron))
    first = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
    for days in range(367):
        date = (first + timedelta(days=days)).replace(hour=0, minute=0)
        if not _day_matches(day, month, weekday, year, date):
            continue
        for hour in range(first.hour if days == 0 else 0, 24):
            if not _cron_field(hours, hour, 0):
                continue
            start = first.minute if days == 0 and hour == first.hour else 0
            minute = next((m for m in range(start, 60) if _cron_field(minutes, m, 0)), None)
            if minute is not None:
                return date.replace(hour=hour, minute=minute)
    return None


def _cron_field(field: str, value: int, low: int) -> bool:
    """One field of an EventBridge cron expression: *, ?, numbers, a-b ranges, /steps, lists."""
    for part in field.split(","):
        base, _, step = part.partition("/")
        if base in ("*", "?"):
            start, end = low, 10_000
        elif "-" in base:
            start, end = (int(x) for x in base.split("-", 1))
        else:
            start = end = int(base)
            if step:
                end = 10_000
        if start <= value <= end and (value - start) % int(step or 1) == 0:
            return True
    return False


def _fields(expression: str) -> list[str]:
    found = re.fullmatch(r"cron\((.+)\)", expression.strip())
    return found.group(1).split() if found else []


def _day_matches(day: str, month: str, weekday: str, year: str, moment: datetime) -> bool:
    sunday_first = moment.isoweekday() % 7 + 1  # EventBridge: 1 = Sunday
    return (_cron_field(day, moment.day, 1) and _cron_field(month, moment.month, 1)
            and _cron_field(weekday, sunday_first, 1) and _cron_field(year, moment.year, 1970))


def cron_matches(expression: str, moment: datetime) -> bool:
    """Whether `cron(minutes hours day month weekday year)` names the minute of `moment` (UTC)."""
    fields = _fields(expression)
    if len(fields) != 6:
        return False
    minutes, hours, day, month, weekday, year = fields
    return (_cron_field(minutes, moment.minute, 0) and _cron_field(hours, moment.hour, 0)
            and _day_matches(day, month, weekday, year, moment))
