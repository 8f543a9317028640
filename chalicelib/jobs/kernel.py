"""One queue and one worker for every queued job. A job is a message {"kind": <job type>, ...its
fields}; the queue adds the id of the request that caused it (store/queue.py). The worker (functions/
scan.py, the template's ScanFunction) hands each message to the function its kind names in
chalicelib/jobs/types.py. A new kind of job (garbage collection, replication) is a new entry there."""

from __future__ import annotations

from typing import Any

from chalicelib.observability import continue_request, logger
from chalicelib.store import queue


def enqueue(message: dict[str, Any], *, delay_seconds: int = 0) -> None:
    queue.send(message, delay_seconds=delay_seconds)


def enqueue_many(messages: list[dict[str, Any]]) -> None:
    queue.send_many(messages)


def run(message: dict[str, Any]) -> None:
    """Run one queued job under the request that caused it. An unknown kind is dropped (logged): no
    retry would make it known."""
    from chalicelib.jobs.types import JOB_TYPES  # the table imports the job modules, which import this

    fields = dict(message)
    kind = fields.pop("kind", None)
    continue_request(fields.pop("request_id", "") or "")
    handler = JOB_TYPES.get(kind or "")
    if handler is None:
        logger.warning("unknown job dropped", extra={"kind": kind})
        return
    handler(fields)
