"""Step Functions: starting state machine executions and answering task tokens."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.aws import client
from chalicelib.observability import request_id


def start(state_machine_arn: str, name: str, payload: dict[str, Any]) -> str:
    """Start an execution (named, so a retried start cannot run twice), its input naming the request
    that caused it (each task passes `request_id` on to its function); its ARN."""
    answer = client("stepfunctions").start_execution(stateMachineArn=state_machine_arn, name=name,
                                                     input=json.dumps({**payload, "request_id": request_id()}))
    return answer["executionArn"]


def status(execution_arn: str) -> str | None:
    """An execution's status (RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED); None when there is no such
    execution (lost with the local emulator's memory)."""
    try:
        return client("stepfunctions").describe_execution(executionArn=execution_arn)["status"]
    except ClientError as error:
        if error.response["Error"]["Code"] == "ExecutionDoesNotExist":
            return None
        raise


def resume(token: str, output: dict[str, Any]) -> bool:
    """Hand a task token back with its result; False when the task is no longer waiting."""
    try:
        client("stepfunctions").send_task_success(taskToken=token, output=json.dumps(output))
    except ClientError as error:
        if error.response["Error"]["Code"] in ("TaskTimedOut", "TaskDoesNotExist", "InvalidToken"):
            return False
        raise
    return True


def failure_reason(error: dict[str, Any], default: str) -> str:
    """What a state machine's Catch hands on (Error, and Cause: a Lambda error's JSON), as one line."""
    cause = error.get("Cause") or ""
    try:
        message = json.loads(cause).get("errorMessage") or cause
    except (ValueError, AttributeError):
        message = cause
    return f"{error.get('Error', 'Error')}: {message}" if message else error.get("Error", default)
