"""The audit log (Harbor's audit logs): records kept by chalicelib/store/audit.py, newest first."""

from __future__ import annotations

from chalicelib.observability import logger
from chalicelib.store.audit import (
    OPERATIONS,
    RESOURCE_TYPES,
    AuditRecord,
    count_all,
    count_projects,
    iter_all,
    iter_projects,
    operations,
    write,
)
from chalicelib.store.projects import Project

__all__ = ["OPERATIONS", "RESOURCE_TYPES", "AuditRecord", "count_all", "count_projects", "iter_all",
           "iter_projects", "operations"]


def record(project: Project, operation: str, resource_type: str, resource: str, username: str) -> None:
    """Write one record. Never raises: a lost audit record must not fail the user's request."""
    try:
        write(project, operation, resource_type, resource, username)
    except Exception:
        logger.exception("audit record not written", extra={"operation": operation, "resource": resource})


