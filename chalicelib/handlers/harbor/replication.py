"""/registries and /replication (semantics-2.6.md 7.2): registry endpoints, adapters, policies,
executions, their tasks and task logs. System admins only, as in Harbor."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from chalicelib.errors import DomainError, harbor_error
from chalicelib.handlers.harbor.context import ApiContext, boolean_field, path_int, respond
from chalicelib.handlers.harbor.paging import list_headers, page_of, query_of, window
from chalicelib.handlers.http import HttpResponse
from chalicelib.replication import adapters, flow, policies, registries
from chalicelib.replication.flow import ExecutionRecord, TaskRecord

# The statuses and triggers Harbor's replication API shows (it converts the task manager's words).
_EXECUTION_STATUS = {"Running": "InProgress", "Success": "Succeed", "Stopped": "Stopped", "Error": "Failed"}
_TASK_STATUS = {"Running": "InProgress", "Success": "Succeed", "Error": "Failed"}
NEVER = "0001-01-01T00:00:00.000Z"  # Harbor's zero time: what it shows for a time not reached yet
T = TypeVar("T", registries.Registry, policies.Policy)
_TRIGGER = {flow.MANUAL: "manual", flow.SCHEDULED: "scheduled", flow.EVENT: "event_based"}


def _optional_text(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise harbor_error("BAD_REQUEST", f"{name} must be a string")
    return value


def registry_json(registry: registries.Registry) -> dict[str, Any]:
    """The secret is never returned: "*****" says one is set (Harbor's convertRegistry)."""
    return {"id": registry.registry_id, "name": registry.name, "description": registry.description,
            "type": registry.type, "url": registry.url, "insecure": registry.insecure, "status": registry.status,
            "credential": {"type": registry.credential_type, "access_key": registry.access_key,
                           "access_secret": "*****" if registry.secret_stored else ""},
            "creation_time": registry.creation_time or NEVER, "update_time": registry.update_time or NEVER}


def create_registry(ctx: ApiContext) -> HttpResponse:
    ctx.require_sysadmin()
    body = ctx.body()
    credential = body.get("credential") or {}
    if not isinstance(credential, dict):
        raise harbor_error("BAD_REQUEST", "credential must be an object")
    registry = registries.create(
        _optional_text(body, "name") or "", _optional_text(body, "type") or "", _optional_text(body, "url") or "",
        description=_optional_text(body, "description") or "", insecure=boolean_field(body, "insecure", False),
        credential_type=_optional_text(credential, "type") or "",
        access_key=_optional_text(credential, "access_key") or "",
        access_secret=_optional_text(credential, "access_secret") or "")
    return respond(201, headers={"Location": f"/api/v2.0/registries/{registry.registry_id}"})


def _named_list(ctx: ApiContext, items: list[T], path: str, fields: tuple[str, ...],
                render: Callable[[T], dict[str, Any]]) -> HttpResponse:
    """A page of registries or policies: `q` on their fields, and `name` as a substring (Harbor keeps
    that parameter for older clients)."""
    ctx.require_sysadmin()
    page = page_of(ctx.request)
    conditions = query_of(ctx.request, fields)
    name = ctx.request.param("name")

    def keep(item: T) -> bool:
        return (not name or name in item.name) and all(c.matches(getattr(item, k)) for k, c in conditions.items())

    selected, total = window(items, page, keep)
    return respond(200, [render(item) for item in selected], list_headers(ctx.request, path, page, total))


def list_registries(ctx: ApiContext) -> HttpResponse:
    return _named_list(ctx, registries.list_all(), "/api/v2.0/registries", ("name", "type", "url", "description"),
                       registry_json)


def _stored_registry(ctx: ApiContext, raw_id: str) -> registries.Registry:
    ctx.require_sysadmin()
    registry_id = path_int(raw_id)
    if registry_id == 0:
        raise harbor_error("NOT_FOUND", "registry 0 not found")
    return registries.get(registry_id)


def get_registry(ctx: ApiContext, registry_id: str) -> HttpResponse:
    return respond(200, registry_json(_stored_registry(ctx, registry_id)))


def update_registry(ctx: ApiContext, registry_id: str) -> HttpResponse:
    old = _stored_registry(ctx, registry_id)
    body = ctx.body()
    registries.update(old, _changes(body, ("name", "description", "url", "credential_type", "access_key")),
                      _optional_text(body, "access_secret"))
    return respond(200)


def _changes(body: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """The fields a RegistryUpdate or RegistryPing body sets (None: left as they are)."""
    insecure = body.get("insecure")
    if insecure is not None and not isinstance(insecure, bool):
        raise harbor_error("BAD_REQUEST", "insecure must be a boolean")
    return {**{name: _optional_text(body, name) for name in names}, "insecure": insecure}


def delete_registry(ctx: ApiContext, registry_id: str) -> HttpResponse:
    registries.delete(_stored_registry(ctx, registry_id))
    return respond(200)


def ping_registry(ctx: ApiContext) -> HttpResponse:
    """An unsaved endpoint, or a saved one (`id`) with some fields replaced."""
    ctx.require_sysadmin()
    body = ctx.body()
    raw_id = body.get("id")
    base = registries.get(raw_id) if isinstance(raw_id, int) and raw_id > 0 else registries.Registry(0, "", "", "")
    registries.ping(base, _changes(body, ("type", "url", "credential_type", "access_key")),
                    _optional_text(body, "access_secret"))
    return respond(200)


def registry_info(ctx: ApiContext, registry_id: str) -> HttpResponse:
    ctx.require_sysadmin()
    return respond(200, registries.info(registries.get(path_int(registry_id))))


def list_adapters(ctx: ApiContext) -> HttpResponse:
    ctx.require_sysadmin()
    return respond(200, list(adapters.TYPES))


def list_adapter_infos(ctx: ApiContext) -> HttpResponse:
    ctx.require_sysadmin()
    return respond(200, adapters.infos())


# -- policies ---------------------------------------------------------------------------------------

def policy_json(policy: policies.Policy) -> dict[str, Any]:
    def side(registry_id: int) -> dict[str, Any]:
        try:
            return registry_json(registries.get(registry_id))
        except DomainError:
            return {"id": registry_id}

    return {"id": policy.policy_id, "name": policy.name, "description": policy.description,
            "src_registry": side(policy.src_registry_id), "dest_registry": side(policy.dest_registry_id),
            "dest_namespace": policy.dest_namespace,
            "dest_namespace_replace_count": policy.dest_namespace_replace_count,
            "trigger": {"type": policy.trigger_type, "trigger_settings": {"cron": policy.cron}},
            "filters": policy.filters, "replicate_deletion": policy.replicate_deletion,
            "deletion": policy.replicate_deletion, "override": policy.override, "enabled": policy.enabled,
            "speed": policy.speed, "creation_time": policy.creation_time, "update_time": policy.update_time}


def create_policy(ctx: ApiContext) -> HttpResponse:
    ctx.require_sysadmin()
    policy = policies.from_request(ctx.body(), policy_id=policies.new_id(), creator=ctx.principal.username,
                                   existing=None)
    policies.create(policy)
    return respond(201, headers={"Location": f"/api/v2.0/replication/policies/{policy.policy_id}"})


def list_policies(ctx: ApiContext) -> HttpResponse:
    return _named_list(ctx, policies.list_all(), "/api/v2.0/replication/policies", ("name",), policy_json)


def get_policy(ctx: ApiContext, policy_id: str) -> HttpResponse:
    ctx.require_sysadmin()
    return respond(200, policy_json(policies.get(path_int(policy_id))))


def update_policy(ctx: ApiContext, policy_id: str) -> HttpResponse:
    ctx.require_sysadmin()
    old = policies.get(path_int(policy_id))
    policies.update(old, policies.from_request(ctx.body(), policy_id=old.policy_id, creator=old.creator,
                                               existing=old))
    return respond(200)


def delete_policy(ctx: ApiContext, policy_id: str) -> HttpResponse:
    ctx.require_sysadmin()
    policy = policies.get(path_int(policy_id))
    policies.delete(policy, running=flow.running_for(policy))
    return respond(200)


# -- executions -------------------------------------------------------------------------------------

def execution_json(execution: ExecutionRecord) -> dict[str, Any]:
    counts = execution.tasks
    total = int(execution.extra.get("total", 0))
    done = {name: counts.get(name, 0) for name in ("Success", "Error", "Stopped")}
    return {"id": execution.execution_id, "policy_id": int(execution.extra.get("policy_id", 0)),
            "status": _EXECUTION_STATUS.get(execution.status, execution.status),
            "status_text": execution.status_text, "trigger": _TRIGGER.get(execution.trigger, execution.trigger),
            "start_time": execution.start_time, "end_time": execution.end_time or NEVER,
            "total": total, "succeed": done["Success"], "failed": done["Error"], "stopped": done["Stopped"],
            "in_progress": max(total - sum(done.values()), 0)}


def _execution(ctx: ApiContext, raw_id: str) -> ExecutionRecord:
    ctx.require_sysadmin()
    execution_id = path_int(raw_id)
    found = flow.get(execution_id)
    if found is None:
        raise harbor_error("NOT_FOUND", f"execution {execution_id} not found")
    return found


def start_execution(ctx: ApiContext) -> HttpResponse:
    ctx.require_sysadmin()
    policy_id = ctx.body().get("policy_id")
    if not isinstance(policy_id, int) or isinstance(policy_id, bool):
        raise harbor_error("BAD_REQUEST", "policy_id is required")
    trigger = flow.SCHEDULED if ctx.request.param("trigger") == "scheduled" else flow.MANUAL
    execution = flow.start(policies.get(policy_id), trigger)
    return respond(201, headers={"Location": f"/api/v2.0/replication/executions/{execution.execution_id}"})


def list_executions(ctx: ApiContext) -> HttpResponse:
    ctx.require_sysadmin()
    page = page_of(ctx.request)
    policy_id, status, trigger = (ctx.request.param(n) for n in ("policy_id", "status", "trigger"))

    def keep(execution: ExecutionRecord) -> bool:
        shown = execution_json(execution)
        return ((not policy_id or str(shown["policy_id"]) == policy_id) and (not status or shown["status"] == status)
                and (not trigger or shown["trigger"] == trigger))

    selected, total = window(flow.history(), page, keep)
    return respond(200, [execution_json(e) for e in selected],
                   list_headers(ctx.request, "/api/v2.0/replication/executions", page, total))


def get_execution(ctx: ApiContext, execution_id: str) -> HttpResponse:
    return respond(200, execution_json(_execution(ctx, execution_id)))


def stop_execution(ctx: ApiContext, execution_id: str) -> HttpResponse:
    flow.stop(_execution(ctx, execution_id).execution_id)
    return respond(200)


def task_json(execution_id: int, task: TaskRecord) -> dict[str, Any]:
    a = task.attributes
    return {"id": task.task_id, "execution_id": execution_id, "resource_type": a.get("resource_type", "image"),
            "src_resource": a.get("src_resource", ""), "dst_resource": a.get("dst_resource", ""),
            "operation": a.get("operation", "copy"), "job_id": a.get("job_id", ""),
            "status": _TASK_STATUS.get(task.status, task.status),
            "start_time": task.start_time or NEVER, "end_time": task.end_time or NEVER}


def list_tasks(ctx: ApiContext, execution_id: str) -> HttpResponse:
    execution = _execution(ctx, execution_id)
    page = page_of(ctx.request)
    status, resource_type = ctx.request.param("status"), ctx.request.param("resource_type")

    def keep(task: TaskRecord) -> bool:
        shown = task_json(execution.execution_id, task)
        return (not status or shown["status"] == status) and (not resource_type or shown["resource_type"] ==
                                                              resource_type)

    selected, total = window(flow.tasks(execution.execution_id), page, keep)
    return respond(200, [task_json(execution.execution_id, t) for t in selected],
                   list_headers(ctx.request, f"/api/v2.0/replication/executions/{execution.execution_id}/tasks",
                                page, total))


def task_log(ctx: ApiContext, execution_id: str, task_id: str) -> HttpResponse:
    execution = _execution(ctx, execution_id)
    task = path_int(task_id, "task_id")
    text = flow.task_log(execution.execution_id, task)
    if text is None:
        if all(t.task_id != task for t in flow.tasks(execution.execution_id)):
            raise harbor_error("NOT_FOUND", f"execution {execution.execution_id} contains no task with ID {task}")
        text = ""
    return HttpResponse(200, {"Content-Type": "text/plain"}, text)


ROUTES = [
    ("POST", "registries", create_registry),
    ("GET", "registries", list_registries),
    ("POST", "registries/ping", ping_registry),
    ("GET", "registries/{registry_id}", get_registry),
    ("PUT", "registries/{registry_id}", update_registry),
    ("DELETE", "registries/{registry_id}", delete_registry),
    ("GET", "registries/{registry_id}/info", registry_info),
    ("GET", "replication/adapters", list_adapters),
    ("GET", "replication/adapterinfos", list_adapter_infos),
    ("POST", "replication/policies", create_policy),
    ("GET", "replication/policies", list_policies),
    ("GET", "replication/policies/{policy_id}", get_policy),
    ("PUT", "replication/policies/{policy_id}", update_policy),
    ("DELETE", "replication/policies/{policy_id}", delete_policy),
    ("POST", "replication/executions", start_execution),
    ("GET", "replication/executions", list_executions),
    ("GET", "replication/executions/{execution_id}", get_execution),
    ("PUT", "replication/executions/{execution_id}", stop_execution),
    ("GET", "replication/executions/{execution_id}/tasks", list_tasks),
    ("GET", "replication/executions/{execution_id}/tasks/{task_id}/log", task_log),
]
