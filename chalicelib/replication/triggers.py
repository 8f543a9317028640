"""Event-based replication (Harbor's replication event handler): a push or a deletion in this registry
queues a `replication_event` job; the job starts an execution of each enabled event-based policy whose
filters select the artifact (a deletion only for policies that replicate deletions). Nothing about the
destination is asked inside the request that pushed."""

from __future__ import annotations

from typing import Any

from chalicelib import events
from chalicelib.jobs import kernel
from chalicelib.registry.digests import is_digest
from chalicelib.replication import flow, policies


def _event_policies() -> list[policies.Policy]:
    return [p for p in policies.list_all() if p.enabled and p.trigger_type == policies.EVENT_BASED]


def on_push(event: events.ArtifactPushed) -> None:
    if _event_policies():
        tags = [] if is_digest(event.reference) else [event.reference]
        kernel.enqueue({"kind": "replication_event", "operation": flow.COPY, "repository": event.repository,
                        "digest": event.digest, "tags": tags})


def on_delete(event: events.ArtifactDeleted) -> None:
    if any(p.replicate_deletion for p in _event_policies()):
        kernel.enqueue({"kind": "replication_event", "operation": flow.DELETION, "repository": event.repository,
                        "digest": event.digest, "tags": []})


def run_event(message: dict[str, Any]) -> None:
    """The queued job: one execution per policy that selects the artifact."""
    for policy in _event_policies():
        if message["operation"] == flow.DELETION and not policy.replicate_deletion:
            continue
        if flow.selects(policy, message):
            flow.start(policy, flow.EVENT, message)


def run_scheduled(message: dict[str, Any]) -> None:
    """What a scheduled policy's EventBridge schedule sends."""
    policy = policies.get(int(message["policy_id"]))
    if policy.enabled:
        flow.start(policy, flow.SCHEDULED)
