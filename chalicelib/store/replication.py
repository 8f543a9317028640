"""Replication policies (Harbor's /replication/policies): each at PK=REPLICATIONPOLICIES, SK=<name>,
found by id through PK=REPLICATIONPOLICYID#<id> (store/named.py). Filters and trigger are kept as
Harbor's JSON. Executions and their tasks live in store/executions.py (kind "replication")."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from chalicelib.errors import Conflict
from chalicelib.store import metadata
from chalicelib.store.named import Named

_PARTITION = "REPLICATIONPOLICIES"
_NAMED = Named("REPLICATIONPOLICY")


class PolicyExists(Conflict):
    def __init__(self, name: str) -> None:
        super().__init__(f"policy {name} already exists")


@dataclass(frozen=True)
class Policy:
    policy_id: int
    name: str
    description: str = ""
    creator: str = ""
    src_registry_id: int = 0
    dest_registry_id: int = 0
    dest_namespace: str = ""
    dest_namespace_replace_count: int = -1
    filters: list[dict[str, Any]] = field(default_factory=list)
    trigger_type: str = "manual"
    cron: str = ""
    replicate_deletion: bool = False
    override: bool = False
    enabled: bool = True
    speed: int = 0  # KB/s per task, 0 unlimited
    creation_time: str = ""
    update_time: str = ""


def _attributes(p: Policy) -> metadata.Item:
    return {"policy_id": p.policy_id, "description": p.description, "creator": p.creator,
            "src_registry_id": p.src_registry_id, "dest_registry_id": p.dest_registry_id,
            "dest_namespace": p.dest_namespace, "dest_namespace_replace_count": p.dest_namespace_replace_count,
            "filters": json.dumps(p.filters), "trigger_type": p.trigger_type, "cron": p.cron,
            "replicate_deletion": p.replicate_deletion, "override": p.override, "enabled": p.enabled,
            "speed": p.speed, "creation_time": p.creation_time, "update_time": p.update_time}


def _policy(item: metadata.Item) -> Policy:
    return Policy(int(item["policy_id"]), item["SK"], item.get("description", ""), item.get("creator", ""),
                  int(item.get("src_registry_id", 0)), int(item.get("dest_registry_id", 0)),
                  item.get("dest_namespace", ""), int(item.get("dest_namespace_replace_count", -1)),
                  json.loads(item.get("filters") or "[]"), item.get("trigger_type", "manual"), item.get("cron", ""),
                  bool(item.get("replicate_deletion")), bool(item.get("override")), bool(item.get("enabled")),
                  int(item.get("speed", 0)), item.get("creation_time", ""), item.get("update_time", ""))


def new_id() -> int:
    return metadata.next_id("REPLICATIONPOLICY")


def create(policy: Policy) -> None:
    try:
        _NAMED.create(policy.policy_id, _PARTITION, policy.name, _attributes(policy))
    except metadata.ConditionFailed as error:
        raise PolicyExists(policy.name) from error


def update(old: Policy, new: Policy) -> None:
    try:
        metadata.transact(_NAMED.rename_ops(new.policy_id, _PARTITION, old.name, new.name, _attributes(new)))
    except metadata.ConditionFailed as error:
        raise PolicyExists(new.name) from error


def delete(policy: Policy) -> None:
    metadata.transact(_NAMED.delete_ops(policy.policy_id, _PARTITION, policy.name))


def get(policy_id: int) -> Policy | None:
    item = _NAMED.by_id(policy_id, _PARTITION)
    return _policy(item) if item else None


def list_all() -> list[Policy]:
    return [_policy(item) for item in _NAMED.iterate(_PARTITION)]
