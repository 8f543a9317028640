"""The audit forwarding queue (SQS): each audit record to forward, as a message the forwarder
(functions/audit_forward.py) delivers to the syslog endpoint; what it cannot deliver for long is
parked in the dead-letter queue."""

from __future__ import annotations

from typing import Any

from chalicelib.config import settings
from chalicelib.store import queue


def send(records: list[dict[str, Any]]) -> None:
    queue.send_many(records, queue_url=settings().audit_forward_queue_url)


def retry_later(receipt_handle: str, seconds: int) -> None:
    queue.retry_later(settings().audit_forward_queue_url, receipt_handle, seconds)


def parked() -> int:
    """Records in the dead-letter queue."""
    return queue.waiting(settings().audit_forward_dead_letter_queue_url)
