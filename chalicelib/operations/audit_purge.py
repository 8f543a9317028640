"""Audit-log purge (Harbor's /system/purgeaudit, "log rotation"): delete the records older than
`audit_retention_hour` hours whose operation is one of `include_operations` (create, delete, pull),
shard after shard, in queued steps of a bounded number of records (each step queues the next), so any
volume finishes without a timeout. A dry run counts. Stop is seen before every step."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from chalicelib import clock
from chalicelib.config import settings
from chalicelib.errors import harbor_error
from chalicelib.jobs import kernel, logs
from chalicelib.operations import system_jobs
from chalicelib.operations.system_jobs import ExecutionRecord
from chalicelib.store import audit
from chalicelib.store.executions import SUCCESS

MAX_RETENTION_HOURS = 240_000  # Harbor's MaxAuditRetentionHour
_OPERATIONS = {"create", "delete", "pull"}


def _launch(execution: ExecutionRecord) -> dict[str, str]:
    kernel.enqueue({"kind": "purge_audit", "execution_id": execution.execution_id, "shard": 0, "after": "",
                    "step": 0})
    return {}


JOB = system_jobs.SystemJob("purge_audit", "PURGE_AUDIT_LOG", "purge audit log", _launch,
                            system_jobs.heard_from_lately)


def parameters(given: Any) -> dict[str, Any]:
    """Harbor's checks, in its order and words; a retention that is not a JSON number counts as 0 (its
    quirk: the job then purges nothing)."""
    if not isinstance(given, dict) or not given:
        raise harbor_error("BAD_REQUEST", "schedule parameter cann't be empty")
    if "audit_retention_hour" not in given:
        raise harbor_error("BAD_REQUEST", "audit_retention_hour should provide")
    if "include_operations" not in given:
        raise harbor_error("BAD_REQUEST", "include_operations should provide")
    hours = given["audit_retention_hour"]
    if isinstance(hours, float) and not hours.is_integer():
        raise harbor_error("BAD_REQUEST", f"failed to convert audit_retention_hour, error: invalid integer {hours}")
    hours = int(hours) if isinstance(hours, int | float) and not isinstance(hours, bool) else 0
    if hours > MAX_RETENTION_HOURS:
        raise harbor_error("BAD_REQUEST", f"audit_retention_hour should be at most {MAX_RETENTION_HOURS}")
    operations = given["include_operations"] if isinstance(given["include_operations"], str) else ""
    return {"audit_retention_hour": hours, "include_operations": operations,
            "dry_run": given.get("dry_run") is True}


def trigger(given: Any) -> ExecutionRecord:
    return system_jobs.start(JOB, system_jobs.MANUAL, parameters(given))


def save_schedule(kind: str, cron: str, given: Any) -> None:
    params = parameters(given)
    if not cron:
        raise harbor_error("BAD_REQUEST", "empty cron string for schedule")
    system_jobs.save_schedule(JOB, kind, cron, params)


def run_step(message: dict[str, Any]) -> None:
    """One queued step: up to AUDIT_PURGE_STEP_RECORDS records of one shard, then the next step is queued."""
    execution_id, shard, step = int(message["execution_id"]), int(message["shard"]), int(message["step"])
    execution = system_jobs.get(JOB, execution_id)
    if execution is None or execution.status != system_jobs.RUNNING:
        return  # stopped (or swept): nothing more to do
    params = system_jobs.parameters_of(execution)
    dry_run = bool(params.get("dry_run"))
    hours = int(params.get("audit_retention_hour") or 0)
    operations = {o.strip().lower() for o in str(params.get("include_operations", "")).split(",")} & _OPERATIONS
    if hours <= 0 or not operations:  # Harbor's job does nothing then
        return _finish(execution, dry_run)
    before = clock.iso(clock.parse(execution.start_time) - timedelta(hours=hours))  # as the run began
    purged, after = audit.purge_page(shard, before, operations, message.get("after") or None, dry_run=dry_run,
                                     limit=settings().audit_purge_step_records)
    system_jobs.progress(JOB, execution_id, {"purged": purged})
    if after is None and shard + 1 >= audit.SHARDS:
        return _finish(system_jobs.get(JOB, execution_id) or execution, dry_run)
    following = {"shard": shard, "after": after} if after is not None else {"shard": shard + 1, "after": ""}
    kernel.enqueue({"kind": "purge_audit", "execution_id": execution_id, "step": step + 1, **following})


def _finish(execution: ExecutionRecord, dry_run: bool) -> None:
    purged = execution.tasks.get("purged", 0)
    line = f"{'[DRYRUN]' if dry_run else ''}Purged {purged} rows of audit logs"
    system_jobs.write_log(JOB, execution.execution_id, "log", [logs.line(line)])
    system_jobs.finish(JOB, execution.execution_id, SUCCESS)
