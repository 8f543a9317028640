"""The health of what this deployment runs on, checked when asked (Harbor's /health): each component
is the store a part of Harbor's stack became here, probed with one cheap call."""

from __future__ import annotations

from collections.abc import Callable

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


def report() -> dict[str, object]:
    """Harbor's OverallHealthStatus: unhealthy when any component is (three small calls, one after the
    other)."""
    checks = [*CHECKS.items(), *([CACHE_CHECK] if cache.enabled() else [])]
    components = [_status(name, check) for name, check in checks]
    healthy = all(c["status"] == "healthy" for c in components)
    return {"status": "healthy" if healthy else "unhealthy", "components": components}
