"""CVE export executions (semantics-2.6.md 1.3): one item each, listed per user through GSI1.

Item (docs/data-model.md): PK=EXPORT#<id>, SK=EXECUTION; GSI1PK=EXPORTS#<username>,
GSI1SK=<start time>#<id> (the user's executions, newest first).
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from typing import Any

from chalicelib import clock
from chalicelib.store import metadata

RUNNING, SUCCESS, ERROR = "Running", "Success", "Error"
FINAL = (SUCCESS, ERROR)
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


def _key(execution_id: int) -> tuple[str, str]:
    return f"EXPORT#{execution_id}", "EXECUTION"


def _execution(item: metadata.Item) -> Execution:
    return Execution(int(item["execution_id"]), int(item["user_id"]), item["user_name"], item["status"],
                     item["start_time"], item.get("end_time", ""), item.get("status_text", ""),
                     item.get("job_name", ""), [int(p) for p in item.get("project_ids") or []],
                     json.loads(item.get("criteria") or "{}"), item.get("file_key", ""),
                     int(item.get("file_size", 0)), int(item.get("rows", 0)), bool(item.get("file_present")),
                     bool(item.get("downloaded")), item.get("task_token", ""))


def create(user_id: int, user_name: str, project_ids: list[int], job_name: str,
           criteria: dict[str, Any]) -> Execution:
    execution_id = metadata.next_id("export")
    now = clock.iso()
    pk, sk = _key(execution_id)
    item = {"PK": pk, "SK": sk, "execution_id": execution_id, "user_id": user_id, "user_name": user_name,
            "status": RUNNING, "start_time": now, "job_name": job_name, "project_ids": project_ids,
            "criteria": json.dumps(criteria), "file_present": False, "downloaded": False,
            "GSI1PK": f"EXPORTS#{user_name}", "GSI1SK": f"{now}#{execution_id:012d}"}
    metadata.put(item, if_absent=True)
    return _execution(item)


def get(execution_id: int) -> Execution | None:
    item = metadata.get(*_key(execution_id), consistent=True)
    return _execution(item) if item else None


def of_user(user_name: str) -> list[Execution]:
    """The user's executions, newest first; a downloaded one is already gone for users."""
    found = (_execution(i) for i in metadata.iterate(f"EXPORTS#{user_name}", index="GSI1", descending=True))
    return [e for e in found if not e.downloaded]


def _set(execution_id: int, **fields: Any) -> Execution:
    return _execution(metadata.set_fields(*_key(execution_id), fields))


def succeed(execution_id: int, file_key: str, size: int, rows: int) -> Execution:
    return _set(execution_id, status=SUCCESS, end_time=clock.iso(), file_key=file_key, file_size=size, rows=rows,
                file_present=True)


def succeed_empty(execution_id: int) -> Execution:
    return _set(execution_id, status=SUCCESS, end_time=clock.iso(), status_text=NOTHING_MATCHED)


def fail(execution_id: int, reason: str) -> Execution:
    return _set(execution_id, status=ERROR, end_time=clock.iso(), status_text=reason[:1000], file_present=False)


def claim_download(execution_id: int) -> Execution | None:
    """The one download: the file stops being present for everyone else in the same write.
    None when it is not (or no longer) there."""
    try:
        item = metadata.update(*_key(execution_id), "SET downloaded = :yes, file_present = :no",
                               {":yes": True, ":no": False}, condition="file_present = :yes AND downloaded <> :yes")
    except metadata.ConditionFailed:
        return None
    return _execution(item)


def keep_token(execution_id: int, token: str) -> Execution:
    """The state machine's task token, so the download can hand it back."""
    return _set(execution_id, task_token=token)


def expire(execution_id: int) -> None:
    """The file was never downloaded in time: the execution stays, without its file."""
    with contextlib.suppress(metadata.ConditionFailed):  # swept meanwhile
        _set(execution_id, file_present=False)


def delete(execution_id: int) -> None:
    metadata.delete(*_key(execution_id))
