"""The queues (SQS): messages for functions/ workers, delivered by Lambda's SQS event source: the job
queue, the pull queue (store/pulls.py) and the audit forwarding queue (store/forwarding.py). Each
message names the request that caused it."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.aws import client
from chalicelib.config import settings
from chalicelib.observability import request_id

MAX_DELAY_SECONDS = 900  # SQS's limit on DelaySeconds


def check() -> None:
    """Raise unless the job queue answers."""
    client("sqs").get_queue_attributes(QueueUrl=settings().scan_queue_url, AttributeNames=["QueueArn"])


def _body(message: dict[str, Any]) -> str:
    """The message, with the request that caused it (observability.py)."""
    return json.dumps({**message, "request_id": request_id()})


def send(message: dict[str, Any], *, delay_seconds: int = 0, queue_url: str | None = None) -> None:
    """To the job queue, or to the queue at `queue_url` (the pull queue)."""
    client("sqs").send_message(QueueUrl=queue_url or settings().scan_queue_url, MessageBody=_body(message),
                               DelaySeconds=max(0, min(delay_seconds, MAX_DELAY_SECONDS)))


def send_many(messages: list[dict[str, Any]], *, queue_url: str | None = None) -> None:
    """10 per call (SQS's batch limit), to the job queue or the queue at `queue_url`."""
    for start in range(0, len(messages), 10):
        entries = [{"Id": str(i), "MessageBody": _body(m)} for i, m in enumerate(messages[start:start + 10])]
        answer = client("sqs").send_message_batch(QueueUrl=queue_url or settings().scan_queue_url, Entries=entries)
        if answer.get("Failed"):
            raise RuntimeError(f"SQS refused {len(answer['Failed'])} messages: {answer['Failed'][0]}")


def waiting(queue_url: str) -> int:
    """About how many messages the queue holds, visible or not (one GetQueueAttributes call)."""
    attributes = client("sqs").get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])
    return sum(int(v) for v in attributes["Attributes"].values())


def retry_later(queue_url: str, receipt_handle: str, seconds: int) -> None:
    """A message its worker could not handle comes back after `seconds` (instead of the queue's timeout)."""
    client("sqs").change_message_visibility(QueueUrl=queue_url, ReceiptHandle=receipt_handle,
                                            VisibilityTimeout=max(0, min(seconds, 43_200)))
