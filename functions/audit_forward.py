"""The audit forwarder: consumes the audit forwarding queue (SQS event source) and writes each batch of
records to the syslog endpoint (chalicelib/audit/forward.py). Outside the cache's VPC: the endpoint
is any host:port the operator names."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.audit import forward
from chalicelib.observability import lambda_handler, logger


@lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, list[dict[str, str]]]:
    records = event.get("Records", [])
    if not records or forward.deliver([json.loads(r["body"]) for r in records]):
        return {"batchItemFailures": []}
    logger.warning("audit records not forwarded: the endpoint did not answer", extra={"records": len(records)})
    for record in records:
        attempts = int(record.get("attributes", {}).get("ApproximateReceiveCount", 1))
        forward.retry_later(record["receiptHandle"], attempts)
    return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in records]}
