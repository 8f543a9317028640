"""Starting an export and handing its file out once (semantics 1.2, 1.5, 1.9)."""

from __future__ import annotations

from dataclasses import replace

from chalicelib.config import settings
from chalicelib.export import files, tasks
from chalicelib.export.criteria import Criteria
from chalicelib.observability import logger
from chalicelib.store import export_executions as executions
from chalicelib.store import objects, workflows
from chalicelib.store.export_executions import Execution, get, of_user

KEEP_PER_USER = 50  # Harbor's execution sweeper count for SCAN_DATA_EXPORT

__all__ = ["Execution", "get", "of_user"]


def start(user_id: int, user_name: str, criteria: Criteria, job_name: str) -> executions.Execution:
    """The execution record, then one run of the state machine named after it; older finished
    executions of the user beyond the newest 50 are swept."""
    execution = executions.create(user_id, user_name, criteria.project_ids, job_name, criteria.to_dict())
    try:
        workflows.start(settings().export_state_machine_arn, str(execution.execution_id),
                        {"execution_id": execution.execution_id,
                         "retention_seconds": settings().export_retention_seconds})
    except Exception:
        executions.fail(execution.execution_id, "the export could not be started")
        raise
    sweep(user_name)
    return execution


def sweep(user_name: str) -> None:
    executions.sweep(user_name, KEEP_PER_USER,
                     forget=lambda old: objects.delete_prefix(f"exports/{old.execution_id}/"))


def scope(criteria: Criteria, project_ids: list[int]) -> Criteria:
    return replace(criteria, project_ids=project_ids)


class Download:
    """The file once: `body` (small files) or `url` (a one-time presigned URL), else nothing."""

    def __init__(self, body: str | None = None, url: str | None = None) -> None:
        self.body, self.url = body, url


def take(execution: executions.Execution) -> Download | None:
    """Read the file, then claim the one download; None when someone else got it first. The state
    machine is told, so it removes the file (and the execution) behind the download."""
    inline = execution.file_size <= settings().export_inline_max_bytes
    body = objects.get(files.file_key(execution.execution_id)).decode() if inline else None
    claimed = executions.claim_download(execution.execution_id)
    if claimed is None:
        return None
    answer = Download(body=body) if inline else Download(
        url=objects.presigned_get(files.file_key(execution.execution_id), settings().presign_ttl_seconds))
    if claimed.task_token:
        try:
            workflows.resume(claimed.task_token, tasks.download_result(claimed))
        except Exception:  # the file is served anyway; the retention timeout removes it later
            logger.exception("could not resume the export state machine",
                             extra={"execution_id": execution.execution_id})
    return answer
