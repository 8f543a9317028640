"""Replication policies as Harbor checks them (src/controller/replication/model/model.go and
src/pkg/reg/model/policy.go): exactly one side is this registry, filters of Harbor's four types, a
destination namespace that is a repository name, a trigger that is manual, event-based or a cron
schedule (an EventBridge Scheduler schedule that sends the job queue a `replication_scheduled`)."""

from __future__ import annotations

import re
from typing import Any

from chalicelib import clock, schedules
from chalicelib.errors import DomainError, harbor_error
from chalicelib.replication import registries
from chalicelib.store import replication as store
from chalicelib.store.replication import Policy, PolicyExists

__all__ = ["Policy", "PolicyExists"]

MANUAL, EVENT_BASED, SCHEDULED = "manual", "event_based", "scheduled"
_REPOSITORY_NAME = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*")
_FILTER_TYPES = ("name", "tag", "label", "resource")


def _bad(message: str) -> DomainError:
    return harbor_error("BAD_REQUEST", message)


def _filters(raw: Any) -> list[dict[str, Any]]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise _bad("filters must be an array")
    checked = []
    for item in raw:
        if not isinstance(item, dict):
            raise _bad("a filter must be an object")
        kind, value, decoration = item.get("type"), item.get("value"), item.get("decoration") or ""
        if kind not in _FILTER_TYPES:
            raise _bad("invalid filter type")
        if kind in ("name", "resource") and decoration:
            raise _bad(f"only tag and label filter support decoration, the type of filter {kind} is not supported")
        if decoration and decoration not in ("matches", "excludes"):
            raise _bad(f"invalid filter decoration, :{str(decoration)[:40]}")
        if kind == "label":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise _bad("the type of label filter value must be string array")
        elif not isinstance(value, str):
            raise _bad(f"the type of {kind} filter value must be string")
        if kind == "resource" and value not in ("image", "artifact", "chart"):
            raise _bad(f"invalid resource filter: {value[:40]}")
        checked.append({"type": kind, "value": value, "decoration": decoration})
    return checked


def from_request(body: dict[str, Any], *, policy_id: int, creator: str, existing: Policy | None) -> Policy:
    """The policy a create or update body describes (Harbor replaces the whole policy on update)."""
    def text(name: str) -> str:
        value = body.get(name) or ""
        if not isinstance(value, str):
            raise _bad(f"{name} must be a string")
        return value

    def registry_id(name: str) -> int:
        value = body.get(name) or {}
        registry = value.get("id") if isinstance(value, dict) else None
        if registry is not None and (not isinstance(registry, int) or isinstance(registry, bool) or registry < 0):
            raise _bad(f"{name}.id must be a registry id")
        return int(registry or 0)

    def flag(name: str) -> bool:
        value = body.get(name, False)
        if not isinstance(value, bool):
            raise _bad(f"{name} must be a boolean")
        return value

    trigger = body.get("trigger") or {}
    if not isinstance(trigger, dict):
        raise _bad("trigger must be an object")
    settings = trigger.get("trigger_settings") or {}
    replace_count = body.get("dest_namespace_replace_count")
    speed = body.get("speed") or 0
    if replace_count is None:
        replace_count = -1
    if not isinstance(replace_count, int) or not -128 <= replace_count <= 127:
        raise _bad("dest_namespace_replace_count must be an int8")
    if not isinstance(speed, int):
        raise _bad("speed must be an integer")
    now = clock.iso()
    policy = Policy(
        policy_id, text("name"), text("description"), existing.creator if existing else creator,
        registry_id("src_registry"), registry_id("dest_registry"), text("dest_namespace"), replace_count,
        _filters(body.get("filters")), trigger.get("type") or MANUAL,
        (settings.get("cron") or "") if isinstance(settings, dict) else "",
        flag("replicate_deletion") or flag("deletion"), flag("override"), flag("enabled"), max(speed, 0),
        existing.creation_time if existing else now, now)
    _validate(policy)
    return policy


def _validate(policy: Policy) -> None:
    if not policy.name:
        raise _bad("empty name")
    if (policy.src_registry_id == 0) == (policy.dest_registry_id == 0):
        raise _bad("either src_registry or dest_registry should be empty and the other one shouldn't be empty")
    for registry_id in (policy.src_registry_id, policy.dest_registry_id):
        if registry_id:
            registries.get(registry_id)  # NOT_FOUND otherwise
    if policy.dest_namespace and not _REPOSITORY_NAME.fullmatch(policy.dest_namespace):
        raise _bad(f"invalid destination namespace: {policy.dest_namespace[:100]}")
    if policy.trigger_type not in (MANUAL, EVENT_BASED, SCHEDULED):
        raise _bad("invalid trigger type")
    if policy.trigger_type == EVENT_BASED and policy.src_registry_id != 0:
        raise _bad("the event based trigger is supported only when the source is this registry")
    if policy.trigger_type == SCHEDULED:
        if not policy.cron:
            raise _bad(f"the cron string cannot be empty when the trigger type is {SCHEDULED}")
        try:
            schedules.to_eventbridge(policy.cron)
        except schedules.InvalidCron as error:
            raise _bad(f"invalid cron string for scheduled trigger: {policy.cron[:100]}") from error


def _schedule_name(policy: Policy) -> str:
    return f"replication-{policy.policy_id}"


def _sync_schedule(policy: Policy) -> None:
    """An enabled scheduled policy has its EventBridge schedule; any other has none."""
    if policy.enabled and policy.trigger_type == SCHEDULED:
        schedules.put(_schedule_name(policy), policy.cron,
                      {"kind": "replication_scheduled", "policy_id": policy.policy_id})
    else:
        schedules.delete(_schedule_name(policy))


def create(policy: Policy) -> Policy:
    store.create(policy)
    try:
        _sync_schedule(policy)
    except Exception:
        store.delete(policy)  # no half-made policy: a schedule that cannot be made undoes the record
        raise
    return policy


def update(old: Policy, new: Policy) -> Policy:
    store.update(old, new)
    _sync_schedule(new)
    return new


def delete(policy: Policy, *, running: bool) -> None:
    """Harbor refuses (412) while an execution of the policy runs."""
    if running:
        raise DomainError("PRECONDITION", f"the policy {policy.policy_id} has running executions, "
                                          "can not be deleted")
    schedules.delete(_schedule_name(policy))
    store.delete(policy)


def get(policy_id: int) -> Policy:
    found = store.get(policy_id)
    if found is None:
        raise harbor_error("NOT_FOUND", f"policy {policy_id} not found")
    return found


def list_all() -> list[Policy]:
    return store.list_all()


def new_id() -> int:
    return store.new_id()
