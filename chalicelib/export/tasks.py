"""The CVE export state machine's tasks (infra/statemachines/cve-export.asl.json), run by
functions/export.py. Payloads carry ids and counts, never data: the data is in S3 and DynamoDB."""

from __future__ import annotations

from typing import Any

from chalicelib import projects
from chalicelib.config import settings
from chalicelib.export import csvparts, files, selection
from chalicelib.export.criteria import Criteria
from chalicelib.observability import logger
from chalicelib.store import export_executions as executions
from chalicelib.store import objects, workflows
from chalicelib.store.executions import RUNNING


class ExportFailed(Exception):
    pass


def _execution(execution_id: int) -> executions.Execution:
    found = executions.get(execution_id)
    if found is None:
        raise ExportFailed(f"export {execution_id} no longer exists")
    return found


def _criteria(execution: executions.Execution) -> Criteria:
    return Criteria.from_dict(execution.criteria)


def prepare(execution_id: int) -> dict[str, Any]:
    execution = _execution(execution_id)
    names = []
    for project_id in execution.project_ids:
        project = projects.get_project_by_id(project_id)
        if project is None:
            raise ExportFailed(f"project {project_id} was deleted before the export ran")
        names.append(project.name)
    criteria = _criteria(execution)
    count = selection.write_batches(execution_id, selection.select(names, criteria), settings().export_batch_artifacts)
    return {"batches": list(range(count))}


def part(execution_id: int, batch: int) -> dict[str, int]:
    """One batch's rows. When another part failed meanwhile (Step Functions lets the parts already
    running finish), the export has ended and its objects are being removed: this part removes its own,
    so a failed export leaves nothing behind."""
    execution = _execution(execution_id)
    try:
        rows = csvparts.write_part(execution_id, batch, _criteria(execution))
    except csvparts.MissingRecord as error:
        raise ExportFailed(f"part {batch}: {error}") from error
    if _execution(execution_id).status != RUNNING:
        objects.delete(csvparts.part_key(execution_id, batch))
    return {"rows": rows}


def assemble(execution_id: int) -> dict[str, bool]:
    execution = _execution(execution_id)
    rows, size = files.assemble(execution_id, _criteria(execution))
    for prefix in files.temporary_prefixes(execution_id):
        objects.delete_prefix(prefix)
    if rows == 0:
        executions.succeed_empty(execution_id)
        return {"has_file": False}
    executions.succeed(execution_id, files.file_key(execution_id), size, rows)
    return {"has_file": True}


def await_download(execution_id: int, token: str) -> dict[str, Any]:
    """Keep the token for the download handler; if the file was downloaded before the token was
    kept, hand it back at once (one of the two always sees both)."""
    execution = executions.keep_token(execution_id, token)
    if execution.downloaded:
        workflows.resume(token, download_result(execution))
    return {}


def download_result(execution: executions.Execution) -> dict[str, int]:
    """What the state machine is told after a download: how long a presigned URL may still be used."""
    inline = execution.file_size <= settings().export_inline_max_bytes
    return {"presigned_ttl": 0 if inline else settings().presign_ttl_seconds}


def cleanup(execution_id: int, downloaded: bool) -> dict[str, Any]:
    """After the download: the file and the execution go (Harbor deletes both). After the retention
    time: the file goes, the execution stays without it."""
    objects.delete_prefix(f"exports/{execution_id}/")
    if downloaded:
        executions.delete(execution_id)
    else:
        executions.expire(execution_id)
    return {}


def fail(execution_id: int, error: dict[str, Any]) -> dict[str, Any]:
    """Catch: the execution ends Error with what failed; temporary objects are removed."""
    reason = workflows.failure_reason(error, "the export failed")
    logger.warning("export failed", extra={"execution_id": execution_id, "reason": reason})
    # Ended first, then emptied: a part still running sees the end after it writes and removes its own.
    if executions.get(execution_id) is not None:
        executions.fail(execution_id, reason)
    objects.delete_prefix(f"exports/{execution_id}/")
    return {}


def run(event: dict[str, Any]) -> dict[str, Any]:
    step, execution_id = event["step"], int(event["execution_id"])
    if step == "prepare":
        return prepare(execution_id)
    if step == "part":
        return part(execution_id, int(event["batch"]))
    if step == "assemble":
        return assemble(execution_id)
    if step == "await_download":
        return await_download(execution_id, event["token"])
    if step == "cleanup":
        return cleanup(execution_id, bool(event["downloaded"]))
    if step == "fail":
        return fail(execution_id, event.get("error") or {})
    raise ExportFailed(f"unknown step {step}")
