"""A replication execution (Harbor's src/controller/replication/flow): a Step Functions state machine
(infra/statemachines/replication.asl.json) that lists the source's resources the policy selects,
makes one task per repository (none for a destination project that is a proxy cache), then runs the
tasks side by side; each task copies (or deletes) its artifacts and ends on its own, so a failed task
never stops the others. Stop is honoured between artifacts."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalicelib import clock, projects
from chalicelib.config import settings
from chalicelib.errors import DomainError
from chalicelib.export import patterns
from chalicelib.jobs import logs
from chalicelib.observability import logger
from chalicelib.registry import records
from chalicelib.replication import endpoints, policies, registries
from chalicelib.replication.adapters import Listed
from chalicelib.replication.copy import Transfer
from chalicelib.replication.policies import Policy
from chalicelib.replication.remote import RemoteError
from chalicelib.store import executions, labels, objects, workflows
from chalicelib.store.executions import ERROR, RUNNING, STOPPED, SUCCESS, ExecutionRecord, TaskRecord

KIND = "replication"
KEEP = 50  # ended executions kept per policy
PENDING = "Pending"
MANUAL, SCHEDULED, EVENT = "MANUAL", "SCHEDULE", "EVENT"
COPY, DELETION = "copy", "deletion"
ATTEMPTS = 3  # per artifact, for what a retry may mend (the network, a registry's 5xx)
SKIPPED = "skip create replication task because of dest limitation"
NOTHING_TO_DO = "no resources need to be replicated"
_ACCESSORY_TAG = ("sha256-", (".sig", ".att", ".sbom"))


@dataclass(frozen=True)
class Work:
    """What one task does: the source repository's artifacts, to the destination repository."""

    source_repository: str
    destination_repository: str
    artifacts: list[dict[str, Any]]  # {"reference": digest or tag, "tags": [...]}; accessories follow subjects
    operation: str = COPY


def start(policy: Policy, trigger: str, event: dict[str, Any] | None = None) -> ExecutionRecord:
    """A new execution of the policy, its state machine started; `event` limits it to one artifact."""
    if not policy.enabled:
        raise DomainError("PRECONDITION", f"the policy {policy.policy_id} is disabled")
    execution = executions.create(KIND, trigger, extra={"policy_id": policy.policy_id,
                                                        "event": json.dumps(event) if event else None})
    try:
        workflows.start(settings().replication_state_machine_arn, f"replication-{execution.execution_id}",
                        {"execution_id": execution.execution_id})
    except Exception:
        logger.exception("replication could not start", extra={"execution": execution.execution_id})
        execution = executions.finish(KIND, execution.execution_id, ERROR, "the execution could not be started")
    executions.sweep(KIND, keep=KEEP, counted=lambda old: old.extra.get("policy_id") == policy.policy_id,
                     forget=lambda old: logs.forget_parts(_log_prefix(old.execution_id)))
    return execution


def _log_prefix(execution_id: int) -> str:
    return f"jobs/{KIND}/{execution_id}/"


def task_log(execution_id: int, task_id: int) -> str | None:
    return logs.read_parts(f"{_log_prefix(execution_id)}task-{task_id:06d}")


def get(execution_id: int) -> ExecutionRecord | None:
    return executions.get(KIND, execution_id)


def history() -> list[ExecutionRecord]:
    return list(executions.newest_first(KIND))


def tasks(execution_id: int) -> list[TaskRecord]:
    return list(executions.tasks(KIND, execution_id))


def stop(execution_id: int) -> None:
    """Stopped now (an ended one stays as it ended); its pending tasks end Stopped when their turn comes."""
    executions.stop(KIND, execution_id)


def running_for(policy: Policy) -> bool:
    return any(r.status == RUNNING and r.extra.get("policy_id") == policy.policy_id
               for r in executions.newest_first(KIND))


# -- the state machine's steps ----------------------------------------------------------------------

def run_step(event: dict[str, Any]) -> dict[str, Any]:
    steps: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
        "enumerate": _enumerate, "copy": _copy, "task_failed": _task_failed, "finish": _finish, "fail": _fail}
    return steps[event["step"]](event)


def _policy_of(execution: ExecutionRecord) -> Policy:
    return policies.get(int(execution.extra["policy_id"]))


def _enumerate(event: dict[str, Any]) -> dict[str, Any]:
    execution_id = int(event["execution_id"])
    execution = executions.get(KIND, execution_id)
    if execution is None or execution.status != RUNNING:
        return {"proceed": False, "tasks": []}
    policy = _policy_of(execution)
    source, destination = _Side(policy.src_registry_id), _Side(policy.dest_registry_id)
    trigger = json.loads(execution.extra.get("event") or "null")
    selected = _selected(policy, source, trigger)
    proxy_caches = destination.proxy_cache_projects()
    works: list[Work] = []
    for listed in selected:
        target = destination_repository(listed.repository, policy.dest_namespace, policy.dest_namespace_replace_count)
        if target.split("/", 1)[0] in proxy_caches:
            logger.info(SKIPPED, extra={"execution": execution_id, "resource": listed.repository,
                                        "destination": target})
            continue
        operation = (trigger or {}).get("operation", COPY)
        works.append(Work(listed.repository, target, _artifacts(listed), operation))
    if not works:
        executions.finish_running(KIND, execution_id, SUCCESS, NOTHING_TO_DO)
        return {"proceed": False, "tasks": []}
    for namespace in sorted({w.destination_repository.split("/", 1)[0] for w in works if "/" in
                             w.destination_repository}):
        destination.ensure_project(namespace)
    records_ = [TaskRecord(index, PENDING, attributes={
        "resource_type": "image", "operation": work.operation, "job_id": f"{execution_id}-{index}",
        "src_resource": _resource_name(work.source_repository, work.artifacts),
        "dst_resource": _resource_name(work.destination_repository, work.artifacts),
        **_kept_work(execution_id, index, work)}) for index, work in enumerate(works, start=1)]
    executions.add_tasks(KIND, execution_id, records_)
    executions.update(KIND, execution_id, total=len(records_))
    return {"proceed": True, "tasks": [r.task_id for r in records_]}


def _kept_work(execution_id: int, task_id: int, work: Work) -> dict[str, str]:
    """A task's work in its record, or in S3 when it is too large for one (a DynamoDB item holds 400 KB:
    a repository with thousands of selected tags)."""
    document = json.dumps(work.__dict__)
    if len(document) <= settings().replication_task_inline_bytes:
        return {"work": document}
    key = f"{_log_prefix(execution_id)}work-{task_id:06d}.json"
    objects.put(key, document.encode())
    return {"work_key": key}


def _work_of(task: TaskRecord) -> Work:
    document = task.attributes.get("work") or objects.get(task.attributes["work_key"]).decode()
    return Work(**json.loads(document))


def _copy(event: dict[str, Any]) -> dict[str, Any]:
    execution_id, task_id = int(event["execution_id"]), int(event["task_id"])
    execution = executions.get(KIND, execution_id)
    task = executions.get_task(KIND, execution_id, task_id)
    if execution is None or task is None or task.status != PENDING:
        return {}
    if execution.status != RUNNING:
        _end_task(execution_id, task_id, STOPPED, [logs.line("the execution was stopped")])
        return {}
    executions.update_task(KIND, execution_id, task_id, status=RUNNING, start_time=clock.iso())
    policy = _policy_of(execution)
    work = _work_of(task)
    lines: list[str] = []
    transfer = Transfer(_Side(policy.src_registry_id).endpoint(), _Side(policy.dest_registry_id).endpoint(),
                        lambda text: lines.append(logs.line(text)), policy.speed,
                        recall=lambda digest: executions.noted(KIND, execution_id, f"blob#{digest}"),
                        remember=lambda digest, repo: executions.note(KIND, execution_id, f"blob#{digest}", repo))
    status = SUCCESS
    for artifact in work.artifacts:
        if executions.stopped(KIND, execution_id):
            lines.append(logs.line("the execution was stopped"))
            status = STOPPED
            break
        if not _attempt(lambda a=artifact: _one(transfer, work, a, policy.override), lines):
            status = ERROR
    lines.append(logs.line(f"blobs sent: {transfer.blobs_sent}, blobs skipped (already there or mounted): "
                           f"{transfer.blobs_skipped}, bytes sent: {transfer.bytes_sent}"))
    _end_task(execution_id, task_id, status, lines)
    return {}


def _one(transfer: Transfer, work: Work, artifact: dict[str, Any], override: bool) -> None:
    if work.operation == DELETION:
        deleted = transfer.destination.delete(work.destination_repository, artifact["reference"])
        transfer.log(f"deleted {work.destination_repository}@{artifact['reference']}" if deleted else
                     f"{work.destination_repository}@{artifact['reference']} was not there")
        return
    transfer.artifact(work.source_repository, artifact["reference"], work.destination_repository,
                      list(artifact.get("tags") or []), override=override)


def _attempt(action: Callable[[], None], lines: list[str]) -> bool:
    """Run one artifact's copy, again after a pause when it fails (up to ATTEMPTS); False when it never
    succeeded (the task fails, its other artifacts still go)."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            action()
            return True
        except (RemoteError, DomainError, OSError, ValueError, KeyError) as error:
            lines.append(logs.line(f"attempt {attempt} of {ATTEMPTS} failed: {error}"))
            if attempt < ATTEMPTS:
                time.sleep(attempt)
    return False


def _end_task(execution_id: int, task_id: int, status: str, lines: list[str]) -> None:
    logs.write_part(_log_prefix(execution_id), f"task-{task_id:06d}", lines)
    executions.update_task(KIND, execution_id, task_id, status=status, end_time=clock.iso())
    executions.count_task(KIND, execution_id, status)


def _task_failed(event: dict[str, Any]) -> dict[str, Any]:
    """A copy task that did not end by itself (it crashed or ran out of time): Error, and the Map goes on."""
    execution_id, task_id = int(event["execution_id"]), int(event["task_id"])
    task = executions.get_task(KIND, execution_id, task_id)
    if task is not None and task.status in (PENDING, RUNNING):
        reason = workflows.failure_reason(event.get("error") or {}, "the task failed")
        _end_task(execution_id, task_id, ERROR, [logs.line(f"the task failed: {reason}")])
    return {}


def _finish(event: dict[str, Any]) -> dict[str, Any]:
    """Success, or Error when a task failed. A stopped execution already says Stopped and stays so."""
    execution_id = int(event["execution_id"])
    execution = executions.get(KIND, execution_id)
    if execution is None or execution.status != RUNNING:
        return {}
    failed, total = execution.tasks.get(ERROR, 0), int(execution.extra.get("total", 0))
    if failed:
        executions.finish_running(KIND, execution_id, ERROR, f"{failed} of {total} tasks failed")
    else:
        executions.finish_running(KIND, execution_id, SUCCESS)
    return {}


def _fail(event: dict[str, Any]) -> dict[str, Any]:
    reason = workflows.failure_reason(event.get("error") or {}, "replication failed")
    logger.error("replication failed", extra={"execution": event["execution_id"], "reason": reason})
    executions.finish_running(KIND, int(event["execution_id"]), ERROR, reason)
    return {}


# -- sources, destinations and names ----------------------------------------------------------------

class _Side:
    """One side of a policy: this registry (id 0) or a registered one."""

    def __init__(self, registry_id: int) -> None:
        self.registry = registries.get(registry_id)
        self.remote = registries.remote(self.registry) if registry_id else None

    def endpoint(self) -> endpoints.Endpoint:
        if self.remote is None:
            return endpoints.Local()
        return endpoints.Remote(self.remote.client, self.remote.max_request_bytes)

    def proxy_cache_projects(self) -> set[str]:
        if self.remote is None:
            return {p.name for p in projects.iter_projects() if p.registry_id}
        return self.remote.proxy_cache_projects()

    def ensure_project(self, name: str) -> None:
        if self.remote is None:
            endpoints.Local.project(name)
        else:
            self.remote.ensure_project(name)

    def repositories(self, namespaces: list[str]) -> list[str]:
        """The source's repositories; only the named projects' when the name filter names them (`namespaces`:
        the literal first components of its patterns), so a policy for one project lists one project."""
        if self.remote is None:
            chosen = (p for p in projects.iter_projects() if not namespaces or p.name in namespaces)
            return [name for project in chosen if not project.registry_id
                    for name in projects.repository_names(project.name)]
        return list(self.remote.repositories(namespaces))

    def listed(self, repository: str) -> Listed:
        if self.remote is not None:
            return self.remote.listed(repository)
        label_ids = labels.label_ids_by_digest(repository)
        names = {i: label.name for ids in label_ids.values() for i in ids if (label := labels.get_label(i))}
        return Listed(repository, [(a.digest, [t.name for t in a.tags],
                                    [names[i] for i in label_ids.get(a.digest, []) if i in names])
                                   for a in records.iter_artifacts(repository) if records.listed(a)])

    def accessories(self, repository: str, digest: str) -> list[dict[str, Any]]:
        if self.remote is not None or not digest:
            return []
        # a cosign signature is found by its tag, which the destination must have too
        return [{"reference": a.digest, "tags": [f"{digest.replace(':', '-')}.sig"] if a.signature_of else []}
                for a in records.accessories_of(repository, digest)]


def selects(policy: Policy, event: dict[str, Any]) -> bool:
    """Whether the policy's filters select the artifact an event names (no registry is asked)."""
    return bool(_selected(policy, _Side(0), event))


def _selected(policy: Policy, source: _Side, trigger: dict[str, Any] | None) -> list[Listed]:
    """The source's repositories and artifacts the policy's filters select (for an event, of its artifact)."""
    name_patterns = [f["value"] for f in policy.filters if f["type"] == "name"]
    repositories = [trigger["repository"]] if trigger else source.repositories(_literal_namespaces(name_patterns))
    chosen = []
    for repository in repositories:
        if not all(patterns.matches(p, repository) for p in name_patterns):
            continue
        if trigger:
            listed = Listed(repository, [(trigger.get("digest", ""), list(trigger.get("tags") or []),
                                          list(trigger.get("labels") or []))])
        else:
            listed = source.listed(repository)
        artifacts = []
        for digest, tags, label_names in listed.artifacts:
            kept = _tags_kept(policy, tags)
            if kept is None or not _labels_pass(policy, label_names):
                continue
            artifacts.append((digest, kept, label_names))
            for accessory in source.accessories(repository, digest):
                artifacts.append((accessory["reference"], accessory["tags"], []))
        if artifacts:
            chosen.append(Listed(repository, artifacts))
    return chosen


def _literal_namespaces(name_patterns: list[str]) -> list[str]:
    """The projects the name filters are limited to, when every pattern starts with a literal one."""
    firsts = [p.split("/", 1)[0] for p in name_patterns]
    if not firsts or any(not first or set(first) & set("*?[{\\") for first in firsts):
        return []
    return firsts


def _tags_kept(policy: Policy, tags: list[str]) -> list[str] | None:
    """The artifact's tags the tag filters keep; None when the artifact is not selected."""
    kept = list(tags)
    for tag_filter in (f for f in policy.filters if f["type"] == "tag" and f["value"]):
        matching = [t for t in kept if _is_accessory_tag(t) or patterns.matches(tag_filter["value"], t)]
        if tag_filter.get("decoration") == "excludes":
            kept = [t for t in kept if t not in matching or _is_accessory_tag(t)]
        else:
            if tags and not matching:
                return None
            if not tags and not patterns.matches(tag_filter["value"], ""):
                return None
            kept = matching
        if tags and not kept:
            return None
    return kept


def _is_accessory_tag(tag: str) -> bool:
    return tag.startswith(_ACCESSORY_TAG[0]) and tag.endswith(_ACCESSORY_TAG[1])


def _labels_pass(policy: Policy, names: list[str]) -> bool:
    for label_filter in (f for f in policy.filters if f["type"] == "label" and f["value"]):
        present = set(label_filter["value"]) <= set(names)
        none_present = not set(label_filter["value"]) & set(names)
        if (label_filter.get("decoration") == "excludes" and not none_present) or \
                (label_filter.get("decoration") != "excludes" and not present):
            return False
    return True


def _artifacts(listed: Listed) -> list[dict[str, Any]]:
    return [{"reference": digest or tags[0], "tags": tags if digest else tags[:1]}
            for digest, tags, _ in listed.artifacts]


def _resource_name(repository: str, artifacts: list[dict[str, Any]]) -> str:
    """Harbor's task resource text: `repo [N item(s) in total]`, counting tags, or digests when untagged."""
    count = sum(max(len(a.get("tags") or []), 1) for a in artifacts)
    return f"{repository} [{count} item(s) in total]"


def destination_repository(repository: str, namespace: str, replace_count: int) -> str:
    """Harbor's replaceNamespace: a/b/c with namespace n gives n/c (-1, legacy), n/a/b/c (0), n/b/c (1),
    n/c (2), n (3); more components than the name has is a 400."""
    if not namespace:
        return repository
    parts = repository.split("/")
    if replace_count < 0:
        return f"{namespace}/{parts[-1]}"
    if replace_count == 0:
        return f"{namespace}/{repository}"
    if replace_count == len(parts):
        return namespace
    if replace_count > len(parts):
        raise DomainError("BAD_REQUEST", f"the repository {repository} contains only {len(parts)} substrings, but "
                                         f"the destination namespace replace count is {replace_count}")
    return f"{namespace}/{'/'.join(parts[replace_count:])}"
