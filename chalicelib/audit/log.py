"""The audit log (Harbor's audit logs): records kept by chalicelib/store/audit.py, newest first, and
forwarded to the syslog endpoint when one is configured (chalicelib/audit/forward.py)."""

from __future__ import annotations

from chalicelib import configurations
from chalicelib.observability import logger
from chalicelib.store import audit, forwarding
from chalicelib.store.audit import (
    OPERATIONS,
    RESOURCE_TYPES,
    AuditRecord,
    count_all,
    count_projects,
    iter_all,
    iter_projects,
)
from chalicelib.store.projects import Project

__all__ = ["OPERATIONS", "RESOURCE_TYPES", "AuditRecord", "count_all", "count_projects", "iter_all",
           "iter_projects", "write"]


def write(project: Project, operation: str, resource_type: str, resource: str, username: str) -> None:
    """Harbor's order (src/pkg/audit/manager.go): forward the record when an endpoint is set (queued: the
    request never waits on the endpoint), then keep it unless skip_audit_log_database."""
    current = configurations.current()
    item = audit.entry(project, operation, resource_type, resource, username)
    if current["audit_log_forward_endpoint"]:
        try:
            forwarding.send([audit.forwarded(item)])
        except Exception:  # as Harbor: a forwarding error is logged and the record is still kept
            logger.exception("audit record not queued for forwarding", extra={"resource": resource})
    if not current["skip_audit_log_database"]:
        audit.write(item)
