"""The job worker: consumes the job queue (SQS event source) and runs each job (chalicelib/jobs).

A job's own failures end it visibly inside its job type (a scan's reports turn Error); a message
reported failed here (storage unreachable, say) is retried by SQS and, after the redrive limit,
parked in the dead-letter queue.
"""

from __future__ import annotations

import json
from typing import Any

from chalicelib.jobs import kernel
from chalicelib.observability import lambda_handler, logger


@lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, list[dict[str, str]]]:
    failures = []
    for record in event.get("Records", []):
        try:
            kernel.run(json.loads(record["body"]))
        except Exception:
            logger.exception("job failed", extra={"message_id": record.get("messageId")})
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}
