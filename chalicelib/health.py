"""The health of what this deployment runs on, checked when asked (Harbor's /health): each component
is the store a part of Harbor's stack became here, probed with one cheap call."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from chalicelib import configurations
from chalicelib.audit import forward
from chalicelib.config import settings
from chalicelib.observability import logger
from chalicelib.store import cache, metadata, objects, queue

# Harbor's component names for what stands in for them: core is this API answering at all.
CHECKS: dict[str, Callable[[], None]] = {
    "core": lambda: None,
    "database": metadata.check,  # DynamoDB for PostgreSQL
    "registry": objects.check_bucket,  # S3 for the registry's storage
    "jobservice": queue.check,  # SQS for the job service's queue
}
# Redis, when the cache is on. Unhealthy here means slower, not down: the table answers meanwhile.
CACHE_CHECK = ("redis", cache.check)


def _status(name: str, check: Callable[[], None]) -> dict[str, str]:
    try:
        check()
    except Exception as error:  # any failure makes the component unhealthy; the cause goes to the log
        logger.warning("health check failed", extra={"component": name, "error": str(error)})
        return {"name": name, "status": "unhealthy", "error": f"{name} did not answer"}
    return {"name": name, "status": "healthy"}


def _forwarding() -> dict[str, str]:
    """Audit records the forwarder gave up on wait in its dead-letter queue: their count is shown here."""
    try:
        parked = forward.parked()
    except Exception as error:
        logger.warning("health check failed", extra={"component": "auditlog_forwarder", "error": str(error)})
        return {"name": "auditlog_forwarder", "status": "unhealthy", "error": "auditlog_forwarder did not answer"}
    if parked:
        return {"name": "auditlog_forwarder", "status": "unhealthy",
                "error": f"{parked} audit records could not be forwarded: they wait in the dead-letter queue"}
    return {"name": "auditlog_forwarder", "status": "healthy"}


def _persistence(status_file: str) -> dict[str, str]:
    """The local stack's saves of its state to disk (infra/snapshot.py): unhealthy from a failed save
    until one succeeds, when what was acknowledged since may not survive a crash."""
    try:
        status = json.loads(Path(status_file).read_text())
    except FileNotFoundError:  # no save has ended yet
        return {"name": "persistence", "status": "healthy"}
    except (OSError, ValueError) as error:
        logger.warning("health check failed", extra={"component": "persistence", "error": str(error)})
        return {"name": "persistence", "status": "unhealthy", "error": "persistence did not answer"}
    if status.get("healthy"):
        return {"name": "persistence", "status": "healthy"}
    return {"name": "persistence", "status": "unhealthy", "error": str(status.get("error") or "saves fail")}


def report() -> dict[str, object]:
    """Harbor's OverallHealthStatus: unhealthy when any component is (a few small calls, one after the
    other)."""
    checks = [*CHECKS.items(), *([CACHE_CHECK] if cache.enabled() else [])]
    components = [_status(name, check) for name, check in checks]
    if configurations.current()["audit_log_forward_endpoint"]:
        components.append(_forwarding())
    if settings().persistence_status_file:
        components.append(_persistence(settings().persistence_status_file))
    healthy = all(c["status"] == "healthy" for c in components)
    return {"status": "healthy" if healthy else "unhealthy", "components": components}
