"""The replication function: the state machine's tasks (the step named in the payload), the periodic
health check of the registry endpoints (its ScheduleV2 event sends {"step": "health"}), and the
proxy-cache queue (SQS records: what a proxy-cache project served from upstream, to store)."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.observability import continue_request, lambda_handler, logger
from chalicelib.replication import caching, flow, registries


@lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if "Records" in event:
        return {"batchItemFailures": _cache(event["Records"])}
    if event.get("step") == "health":
        return {"statuses": registries.check_health()}
    return flow.run_step(event)


def _cache(records: list[dict[str, Any]]) -> list[dict[str, str]]:
    failures = []
    for record in records:
        message = json.loads(record["body"])
        continue_request(message.pop("request_id", "") or "")
        try:
            caching.cache_artifact(message)
        except Exception:
            logger.exception("proxy cache could not store an artifact", extra={"message": message})
            failures.append({"itemIdentifier": record["messageId"]})
    return failures
