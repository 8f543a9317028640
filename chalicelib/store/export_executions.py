"""CVE export executions (semantics-2.6.md 1.3): executions of kind `export` (store/executions.py),
listed per user, with the export's own attributes: the job name, the projects and criteria, the
file (key, size, rows, present, downloaded) and the state machine's task token.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalicelib.store import executions
from chalicelib.store.executions import ERROR, SUCCESS
from chalicelib.store.metadata import ConditionFailed

NOTHING_MATCHED = "No vulnerabilities found or matched"


@dataclass(frozen=True)
class Execution:
    execution_id: int
    user_id: int
    user_name: str
    status: str
    start_time: str
    end_time: str
    status_text: str
    job_name: str
    project_ids: list[int]
    criteria: dict[str, Any]
    file_key: str
    file_size: int
    rows: int
    file_present: bool
    downloaded: bool
    task_token: str

    def json(self) -> dict[str, Any]:
        """ScanDataExportExecution, plus job_name."""
        return {"id": self.execution_id, "user_id": self.user_id, "user_name": self.user_name,
                "status": self.status, "trigger": "MANUAL", "start_time": self.start_time,
                "end_time": self.end_time or "0001-01-01T00:00:00.000Z", "status_text": self.status_text,
                "file_present": self.file_present, "job_name": self.job_name}


KIND = "export"


def _execution(record: executions.ExecutionRecord) -> Execution:
    extra = record.extra
    return Execution(record.execution_id, int(extra["user_id"]), record.owner, record.status, record.start_time,
                     record.end_time, record.status_text, extra.get("job_name", ""),
                     [int(p) for p in extra.get("project_ids") or []], json.loads(extra.get("criteria") or "{}"),
                     extra.get("file_key", ""), int(extra.get("file_size", 0)), int(extra.get("rows", 0)),
                     bool(extra.get("file_present")), bool(extra.get("downloaded")), extra.get("task_token", ""))


def create(user_id: int, user_name: str, project_ids: list[int], job_name: str,
           criteria: dict[str, Any]) -> Execution:
    return _execution(executions.create(KIND, "MANUAL", owner=user_name, extra={
        "user_id": user_id, "job_name": job_name, "project_ids": project_ids, "criteria": json.dumps(criteria),
        "file_present": False, "downloaded": False}))


def get(execution_id: int) -> Execution | None:
    record = executions.get(KIND, execution_id)
    return _execution(record) if record else None


def of_user(user_name: str) -> list[Execution]:
    """The user's executions, newest first; a downloaded one is already gone for users."""
    return [e for e in map(_execution, executions.newest_first(KIND, user_name)) if not e.downloaded]


def _set(execution_id: int, **fields: Any) -> Execution:
    return _execution(executions.update(KIND, execution_id, **fields))


def succeed(execution_id: int, file_key: str, size: int, rows: int) -> Execution:
    return _execution(executions.finish(KIND, execution_id, SUCCESS, file_key=file_key, file_size=size, rows=rows,
                                        file_present=True))


def succeed_empty(execution_id: int) -> Execution:
    return _execution(executions.finish(KIND, execution_id, SUCCESS, NOTHING_MATCHED))


def fail(execution_id: int, reason: str) -> Execution:
    return _execution(executions.finish(KIND, execution_id, ERROR, reason, file_present=False))


def claim_download(execution_id: int) -> Execution | None:
    """The one download: the file stops being present for everyone else in the same write.
    None when it is not (or no longer) there."""
    claimed = executions.update_if(KIND, execution_id, {"file_present": True, "downloaded": False},
                                   downloaded=True, file_present=False)
    return _execution(claimed) if claimed else None


def keep_token(execution_id: int, token: str) -> Execution:
    """The state machine's task token, so the download can hand it back."""
    return _set(execution_id, task_token=token)


def expire(execution_id: int) -> None:
    """The file was never downloaded in time: the execution stays, without its file."""
    with contextlib.suppress(ConditionFailed):  # swept meanwhile
        _set(execution_id, file_present=False)


def delete(execution_id: int) -> None:
    executions.delete(KIND, execution_id)


def sweep(user_name: str, keep: int, forget: Callable[[executions.ExecutionRecord], None]) -> None:
    """The user's ended executions beyond the newest `keep` they still see (a downloaded one is gone
    for them already)."""
    executions.sweep(KIND, keep=keep, owner=user_name, counted=lambda r: not r.extra.get("downloaded"),
                     forget=forget)
