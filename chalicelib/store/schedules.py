"""EventBridge Scheduler schedules that send a message to the job queue, named after the stack."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from chalicelib.aws import client
from chalicelib.config import settings


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
