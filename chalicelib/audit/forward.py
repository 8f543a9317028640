"""Audit-log forwarding (Harbor 2.6's audit_log_forward_endpoint): the forwarder function takes the
queued records and writes them to the endpoint over TCP syslog, one line each, in Harbor's format
(src/pkg/audit/forward.go: Go's log/syslog, priority LOG_INFO of facility kern, tag `audit`, the
text formatter's fields sorted by key). An endpoint that is down makes the records wait in the queue,
retried with growing delays; those still undelivered after the queue's receive limit are parked in its
dead-letter queue (its count shows in /health), never dropped."""

from __future__ import annotations

import os
import socket
from datetime import datetime
from typing import Any

from chalicelib import clock, configurations
from chalicelib.store import forwarding

TIMEOUT_SECONDS = 5
_FIRST_RETRY_SECONDS, _LAST_RETRY_SECONDS = 2, 900


def _go_time(op_time: str) -> str:
    """Go's time.String() of the record's time, as Harbor's `time` field shows it."""
    moment = clock.parse(op_time)
    fraction = f".{moment.microsecond // 1000:03d}".rstrip("0").rstrip(".")
    return moment.strftime("%Y-%m-%d %H:%M:%S") + fraction + " +0000 UTC"


def _rfc3339(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def line(record: dict[str, Any], now: datetime) -> str:
    """One record as Harbor writes it to syslog."""
    fields = (f'operator="{record["username"]}" resourceType="{record["resource_type"]}" '
              f'time="{_go_time(record["op_time"])}"')
    message = (f'{_rfc3339(now)} [INFO] [/pkg/audit/forward.go:45][{fields}]:'
               f'action:{record["operation"]}, resource:{record["resource"]}')
    return f"<6>{_rfc3339(now)} {socket.gethostname()} audit[{os.getpid()}]: {message}\n"


def deliver(records: list[dict[str, Any]]) -> bool:
    """Write the records to the configured endpoint in one connection; False when it cannot be reached
    (nothing is then taken as delivered). With no endpoint configured, forwarding is off: they are
    dropped, as Harbor forwards only while an endpoint is set."""
    endpoint = configurations.current()["audit_log_forward_endpoint"]
    if not endpoint:
        return True
    host, _, port = endpoint.rpartition(":")
    now = clock.now()
    payload = "".join(line(r, now) for r in records).encode()
    try:
        with socket.create_connection((host, int(port)), timeout=TIMEOUT_SECONDS) as connection:
            connection.sendall(payload)
    except OSError:
        return False
    return True


def retry_later(receipt_handle: str, attempts: int) -> None:
    """Back off: 2 s after the first failure, doubling up to 15 minutes."""
    forwarding.retry_later(receipt_handle, min(_FIRST_RETRY_SECONDS * 2 ** max(0, attempts - 1), _LAST_RETRY_SECONDS))


def parked() -> int:
    return forwarding.parked()
