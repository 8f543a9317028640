"""Garbage collection (Harbor's /system/gc): a state machine (infra/statemachines/gc.asl.json) of
four steps whose payloads carry ids, never data.

1. start: refuse in read-only mode, write the repository names in batches to S3.
2. mark (a Map over the batches): per repository, delete the untagged artifacts when asked (not index
   children, not accessories), then read its manifests and its blob links. A link no manifest of the
   repository references and unused within the time window is stale and deleted, only as it was read
   (a manifest push touches the links it relies on, so one of the two loses). Every other linked
   blob, and every manifest kept in S3, is marked live for this run.
3. sweep (a Map over key ranges of the bucket, each continued from where it stopped so that no task
   nears Lambda's time limit): a page of 1,000 objects at a time, the bytes not marked live and not
   used within the window are candidates; their records go to `deleting` (conditionally, store/gc.py),
   one DeleteObjects call removes them, the records go after. What S3 refuses is logged, counted and
   left for the next run; the run goes on.
4. finish: the totals in the log, the execution's end.

A blob uploaded, mounted or referenced by a push during the run is kept: every new use touches the
records garbage collection reads, and it deletes only what it read (docs/operations.md).
Stop is seen between repositories and between pages; a dry run counts what would go and changes nothing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

from chalicelib import clock, configurations, projects
from chalicelib.config import settings
from chalicelib.errors import harbor_error
from chalicelib.jobs import logs
from chalicelib.operations import system_jobs
from chalicelib.operations.system_jobs import ERROR, RUNNING, STOPPED, ExecutionRecord
from chalicelib.registry import records, service
from chalicelib.registry.names import project_of
from chalicelib.store import gc as store
from chalicelib.store import manifests as manifest_store
from chalicelib.store import objects, repositories, workflows
from chalicelib.store.executions import SUCCESS

OPERATOR = "harbor-gc"  # the username of its audit records (untagged artifacts it deletes)
SHARDS = [*(f"blobs/sha256/{h}" for h in "0123456789abcdef"), "blobs/sha512/", "manifests/"]
_SAFETY_SECONDS = 60  # a sweep task hands over when less than this is left of its Lambda time
_MARK_TTL_SECONDS = 24 * 3600


class GcFailed(Exception):
    pass


def _launch(execution: ExecutionRecord) -> dict[str, str]:
    arn = workflows.start(settings().gc_state_machine_arn, f"gc-{execution.execution_id}",
                          {"execution_id": execution.execution_id})
    return {"workflow_arn": arn}


JOB = system_jobs.SystemJob("gc", "GARBAGE_COLLECTION", "garbage collection", _launch, system_jobs.workflow_alive)


def parameters(given: Any) -> dict[str, Any]:
    """Harbor's: booleans taken when they are booleans; the server adds the time window."""
    given = given if isinstance(given, dict) else {}
    return {"delete_untagged": given.get("delete_untagged") is True, "dry_run": given.get("dry_run") is True,
            "time_window": settings().gc_time_window_hours}


def trigger(given: Any) -> ExecutionRecord:
    return system_jobs.start(JOB, system_jobs.MANUAL, parameters(given))


def save_schedule(kind: str, cron: str, given: Any) -> None:
    if not cron:
        raise harbor_error("BAD_REQUEST", "empty cron string for gc schedule")
    system_jobs.save_schedule(JOB, kind, cron, parameters(given))


class _Run:
    """One execution as its tasks see it."""

    def __init__(self, execution_id: int) -> None:
        execution = system_jobs.get(JOB, execution_id)
        if execution is None:
            raise GcFailed(f"garbage collection {execution_id} no longer exists")
        self.execution = execution
        self.id = str(execution_id)
        params = system_jobs.parameters_of(execution)
        self.dry_run = bool(params.get("dry_run"))
        self.delete_untagged = bool(params.get("delete_untagged"))
        window = timedelta(hours=float(params.get("time_window", 2)))
        self.cutoff = clock.iso(clock.parse(execution.start_time) - window)
        self.lines: list[str] = []

    @property
    def execution_id(self) -> int:
        return self.execution.execution_id

    def stopped(self) -> bool:
        return system_jobs.stopped(JOB, self.execution_id)

    def log(self, text: str) -> None:
        self.lines.append(logs.line(("[DRYRUN] " if self.dry_run else "") + text))

    def flush(self, part: str) -> None:
        system_jobs.write_log(JOB, self.execution_id, part, self.lines)
        self.lines = []


def _work_key(execution_id: int, batch: int) -> str:
    return f"gc/{execution_id}/repositories/{batch:06d}.json"


def start(execution_id: int) -> dict[str, Any]:
    run = _Run(execution_id)
    if configurations.current()["read_only"]:
        run.log("the registry is in read-only mode: garbage collection does not run")
        run.flush("0-start")
        system_jobs.finish(JOB, execution_id, ERROR, "the registry is in read-only mode")
        return {"proceed": False, "batches": [], "shards": []}
    run.log(f"garbage collection starts: delete_untagged={run.delete_untagged}, blobs unused since "
            f"{run.cutoff} are candidates")
    batches = 0
    for names in _chunks((r.name for r in repositories.iter_repositories()), settings().gc_batch_repositories):
        objects.put(_work_key(execution_id, batches), json.dumps(names).encode())
        batches += 1
    run.flush("0-start")
    return {"proceed": True, "batches": list(range(batches)), "shards": SHARDS}


def _chunks(items: Iterator[str], size: int) -> Iterator[list[str]]:
    chunk: list[str] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def mark(execution_id: int, batch: int) -> dict[str, Any]:
    run = _Run(execution_id)
    names = json.loads(objects.get(_work_key(execution_id, batch)))
    counts = {"artifacts_deleted": 0, "links_deleted": 0}
    marked: set[str] = set()  # within this task: one mark per digest
    for name in names:
        if run.stopped():
            break
        live = _mark_repository(run, name, counts)
        new = live - marked
        store.mark_live(run.id, new, int(time.time()) + _MARK_TTL_SECONDS)
        marked |= new
    system_jobs.add_counts(JOB, execution_id, counts)
    run.flush(f"1-mark-{batch:06d}")
    return {}


def _mark_repository(run: _Run, name: str, counts: dict[str, int]) -> set[str]:
    """Delete the untagged artifacts (when asked) and the stale links; the digests the repository keeps."""
    untagged = _untagged(run, name) if run.delete_untagged else set()
    referenced: set[str] = set()
    live: set[str] = set()
    for manifest in manifest_store.iter_manifests(name):
        if manifest.digest in untagged:
            continue
        referenced.update(manifest.blobs)
        if manifest.object_key:
            live.add(manifest.digest)
    stale = []
    for link in store.links(name):
        if link.digest in referenced or max(link.created, link.touched or "") >= run.cutoff:
            live.add(link.digest)
        else:
            stale.append(link)
    deleted = stale if run.dry_run else store.delete_links(name, stale)
    live |= {link.digest for link in stale} - {link.digest for link in deleted}  # touched meanwhile: kept
    counts["artifacts_deleted"] += len(untagged)
    counts["links_deleted"] += len(deleted)
    if untagged or deleted:
        run.log(f"{name}: {len(untagged)} untagged artifacts and {len(deleted)} unreferenced blob links deleted")
    return live


def _untagged(run: _Run, name: str) -> set[str]:
    """Harbor's untagged artifacts: no tag, not an index's child, not an accessory. Deleted (with their
    accessories) as a user's delete would, unless in a dry run; those deleted, or that would be."""
    found = {a.digest for a in records.iter_artifacts(name) if records.listed(a) and not a.tags}
    if run.dry_run or not found:
        return found
    project = projects.get_project(project_of(name))
    deleted = set()
    for digest in found:
        try:
            if project is None:
                raise GcFailed(f"the project of {name} is gone")
            service.delete_artifact(project, name, digest, OPERATOR)
            deleted.add(digest)
        except Exception as error:  # one artifact's failure is logged; the next run tries again
            run.log(f"failed to delete untagged artifact {name}@{digest}: {error}")
    return deleted


def sweep(execution_id: int, shard: str, after: str, time_left: Callable[[], float]) -> dict[str, Any]:
    """Sweep one key range from `after`, page by page, until done, stopped or near the time limit."""
    run = _Run(execution_id)
    counts = {"blobs_deleted": 0, "bytes_freed": 0, "manifests_deleted": 0, "blobs_failed": 0}
    more = True
    while more and not run.stopped() and time_left() > _SAFETY_SECONDS:
        listed, next_after = objects.list_page(shard, after)
        _sweep_page(run, listed, shard.startswith("manifests/"), counts)
        more, after = next_after is not None, next_after or after
    system_jobs.add_counts(JOB, execution_id, counts)
    run.flush(f"2-sweep-{shard.replace('/', '-')}-{after.rsplit('/', 1)[-1][:16] or 'start'}")
    return {"step": "sweep", "execution_id": execution_id, "shard": shard, "after": after,
            "more": more and not run.stopped()}


def _digest_of(key: str) -> str:
    _, algorithm, _, hex_digest = key.split("/", 3)
    return f"{algorithm}:{hex_digest}"


def _collectable(run: _Run, record: store.StoredRecord | None) -> bool:
    if record is None:
        return True  # bytes nothing records (an upload that never finished recording)
    if record.state == store.DELETING:
        return record.run != run.id  # left by an interrupted run
    return record.last_use < run.cutoff


def _sweep_page(run: _Run, listed: list[objects.Listed], manifests: bool, counts: dict[str, int]) -> None:
    old = {_digest_of(o.key): o for o in listed if o.modified < run.cutoff}
    live = store.marked(run.id, list(old))
    unmarked = {d: o for d, o in old.items() if d not in live}
    stored = {} if manifests else store.stored_records(list(unmarked))
    candidates = [store.Candidate(d, stored.get(d), o.size, o.modified) for d, o in unmarked.items()
                  if manifests or _collectable(run, stored.get(d))]
    if not candidates:
        return
    if run.dry_run:
        claimed = candidates
        failed: dict[str, str] = {}
    else:
        claimed = candidates if manifests else store.claim(run.id, candidates)
        failed = objects.delete_many([unmarked[c.digest].key for c in claimed])
        gone = [c.digest for c in claimed if unmarked[c.digest].key not in failed]
        failed_digests = [c.digest for c in claimed if unmarked[c.digest].key in failed]
        if not manifests:
            store.forget_records(gone)
            store.release(run.id, failed_digests)
    for key, reason in failed.items():
        run.log(f"failed to delete {key}: {reason}; the next run tries again")
    deleted = [c for c in claimed if unmarked[c.digest].key not in failed]
    counts["manifests_deleted" if manifests else "blobs_deleted"] += len(deleted)
    counts["bytes_freed"] += sum(c.size for c in deleted)
    counts["blobs_failed"] += len(failed)
    run.log(f"{len(deleted)} {'manifests' if manifests else 'blobs'} ({sum(c.size for c in deleted)} bytes) "
            f"{'eligible for deletion' if run.dry_run else 'deleted'} from {listed[0].key} to {listed[-1].key}")


def finish(execution_id: int) -> dict[str, Any]:
    run = _Run(execution_id)
    counts = run.execution.tasks
    blobs, manifests = counts.get("blobs_deleted", 0), counts.get("manifests_deleted", 0)
    freed_mb = counts.get("bytes_freed", 0) / 1024 / 1024
    failed = counts.get("blobs_failed", 0)
    verb = "eligible for deletion" if run.dry_run else "deleted"
    run.log(f"{counts.get('artifacts_deleted', 0)} untagged artifacts and {counts.get('links_deleted', 0)} "
            f"unreferenced blob links {verb}")
    run.log(f"{blobs} blobs and {manifests} manifests {verb}, freeing {freed_mb:.2f} MB")
    if failed:
        run.log(f"{failed} blobs could not be deleted; the next run tries them again")
    stopped = run.execution.status == STOPPED
    if stopped:
        run.log("garbage collection was stopped")
    run.flush("3-finish")
    objects.delete_prefix(f"gc/{execution_id}/")
    if not stopped:
        status = ERROR if failed else SUCCESS
        system_jobs.finish(JOB, execution_id, status, f"{failed} blobs could not be deleted" if failed else "")
    return {}


def fail(execution_id: int, error: dict[str, Any]) -> dict[str, Any]:
    """Catch: the execution ends Error with what failed."""
    reason = workflows.failure_reason(error, "garbage collection failed")
    system_jobs.write_log(JOB, execution_id, "4-failed", [logs.line(f"garbage collection failed: {reason}")])
    objects.delete_prefix(f"gc/{execution_id}/")
    if (found := system_jobs.get(JOB, execution_id)) is not None and found.status == RUNNING:
        system_jobs.finish(JOB, execution_id, ERROR, reason)
    return {}


def run_step(event: dict[str, Any], time_left: Callable[[], float]) -> dict[str, Any]:
    step, execution_id = event["step"], int(event["execution_id"])
    if step == "start":
        return start(execution_id)
    if step == "mark":
        return mark(execution_id, int(event["batch"]))
    if step == "sweep":  # its answer is the next task's input: the request id goes on with it
        return {**sweep(execution_id, event["shard"], event.get("after") or "", time_left),
                "request_id": event.get("request_id", "")}
    if step == "finish":
        return finish(execution_id)
    if step == "fail":
        return fail(execution_id, event.get("error") or {})
    raise GcFailed(f"unknown step {step}")
