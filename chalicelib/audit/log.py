"""The audit log (Harbor's audit logs): records kept by chalicelib/store/audit.py, newest first."""

from __future__ import annotations

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

__all__ = ["OPERATIONS", "RESOURCE_TYPES", "AuditRecord", "count_all", "count_projects", "iter_all",
           "iter_projects", "operations", "write"]
