"""Powertools Logger, Tracer and Metrics. Locally the launcher sets POWERTOOLS_TRACE_DISABLED and
POWERTOOLS_METRICS_DISABLED, so tracing and metrics do nothing; on Lambda they report to X-Ray and
CloudWatch (EMF)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = "harbor-serverless"

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace="HarborServerless", service=SERVICE)
Handler = TypeVar("Handler", bound=Callable[..., Any])


def log_invocation(context: Any, **keys: Any) -> None:
    """Start the log keys of one invocation, in this thread only: in the local stack the API and every
    function share one process, and keys kept in the logger's shared state would label one's lines
    with another's function name."""
    logger.thread_safe_clear_keys()
    logger.thread_safe_append_keys(function_name=getattr(context, "function_name", None),
                                   function_request_id=getattr(context, "aws_request_id", None), **keys)


def lambda_handler(handler: Handler) -> Handler:
    """A function's handler, its log lines labelled with its own invocation."""
    @functools.wraps(handler)
    def invoke(event: Any, context: Any) -> Any:
        log_invocation(context)
        return handler(event, context)
    return invoke  # type: ignore[return-value]
