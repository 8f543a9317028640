"""The scan worker: consumes the scan queue (SQS event source, one message at a time).

A job's own failures end its reports as Error inside chalicelib.scan.jobs; a message reported
failed here (storage unreachable, say) is retried by SQS and, after the redrive limit, parked in
the dead-letter queue.
"""

from __future__ import annotations

import json
from typing import Any

from chalicelib.observability import lambda_handler, logger
from chalicelib.scan import jobs


@lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, list[dict[str, str]]]:
    failures = []
    for record in event.get("Records", []):
        try:
            jobs.handle(json.loads(record["body"]))
        except Exception:
            logger.exception("scan message failed", extra={"message_id": record.get("messageId")})
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}
