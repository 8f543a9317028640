"""Powertools Logger, Tracer and Metrics, and the one seam every entry point goes through.

Locally the launcher sets POWERTOOLS_TRACE_DISABLED and POWERTOOLS_METRICS_DISABLED, so tracing and
metrics do nothing; on Lambda they report to X-Ray and CloudWatch (EMF). The Tracer patches botocore,
so every store call (DynamoDB, S3, SQS, SSM, Step Functions) is a subsegment of its invocation.

The request id of the API request that caused some work follows it: the job queue's messages and the
state machines' input carry it (store/queue.py, store/workflows.py), and every log line of the API
and of every function names it as `request_id`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = "harbor-serverless"

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace="HarborServerless", service=SERVICE)
Handler = TypeVar("Handler", bound=Callable[..., Any])
_request_id: ContextVar[str] = ContextVar("request_id", default="")


def request_id() -> str:
    """The id of the API request this work serves ("" when none caused it: a schedule)."""
    return _request_id.get()


def log_invocation(context: Any, request_id: str | None = None, **keys: Any) -> None:
    """Start the log keys of one invocation, in this thread only: in the local stack the API and every
    function share one process, and keys kept in the logger's shared state would label one's lines
    with another's function name."""
    logger.thread_safe_clear_keys()
    logger.thread_safe_append_keys(function_name=getattr(context, "function_name", None),
                                   function_request_id=getattr(context, "aws_request_id", None), **keys)
    continue_request(request_id or "")


def continue_request(caused_by: str) -> None:
    """The work at hand serves this request (a job message or a state machine input named it)."""
    _request_id.set(caused_by)
    logger.thread_safe_append_keys(request_id=caused_by or None)


def lambda_handler(handler: Handler) -> Handler:
    """A function's entry point: an X-Ray segment per invocation, log lines labelled with the
    invocation and with the request that caused it (a state machine's input names it)."""
    traced = tracer.capture_lambda_handler(handler)

    @functools.wraps(handler)
    def invoke(event: Any, context: Any) -> Any:
        log_invocation(context, event.get("request_id") if isinstance(event, dict) else None)
        return traced(event, context)
    return invoke  # type: ignore[return-value]
