"""/system/gc and /system/purgeaudit (semantics 5.1 and 3.1): history, one execution, stop, log, and
the schedule (whose type Manual starts a run now and None removes it). System admins only."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalicelib import clock, schedules
from chalicelib.errors import harbor_error
from chalicelib.handlers.harbor.context import ApiContext, path_int, respond
from chalicelib.handlers.harbor.paging import list_headers, page_of, query_of, sort_of, window
from chalicelib.handlers.http import HttpResponse
from chalicelib.operations import audit_purge, gc, system_jobs
from chalicelib.operations.system_jobs import ExecutionRecord, SystemJob

PERIODIC = ("Hourly", "Daily", "Weekly", "Custom")


@dataclass(frozen=True)
class JobApi:
    job: SystemJob
    path: str  # under /api/v2.0
    trigger: Callable[[Any], ExecutionRecord]
    save_schedule: Callable[[str, str, Any], None]
    check_parameters: Callable[[Any], Any]  # Harbor's checks of the body's parameters, before anything runs
    missing_log: str  # Harbor's 404 message, with {id}


GC = JobApi(gc.JOB, "/system/gc", gc.trigger, gc.save_schedule, gc.parameters,
            "garbage collection {id} log is not found")
PURGE = JobApi(audit_purge.JOB, "/system/purgeaudit", audit_purge.trigger, audit_purge.save_schedule,
               audit_purge.parameters, "purge job with execution ID: {id} taskLog is not found")


def execution_json(job: SystemJob, execution: ExecutionRecord) -> dict[str, Any]:
    """Harbor's GCHistory / ExecHistory. `schedule.type` is one of the swagger's (Harbor puts the trigger
    there, which its own enum and harborapi's model refuse): Manual, or the type of the schedule that ran
    it; `job_kind` is the trigger, as Harbor's."""
    return {"id": execution.execution_id, "job_name": job.vendor, "job_kind": execution.trigger,
            "job_parameters": execution.extra.get("parameters", "{}"),
            "schedule": {"type": system_jobs.schedule_type_of(execution)},
            "job_status": execution.status, "deleted": False, "creation_time": execution.start_time,
            "update_time": execution.end_time or execution.start_time}


def _schedule_json(saved: schedules.SavedSchedule) -> dict[str, Any]:
    following = system_jobs.next_run(saved)
    return {"id": 0, "job_name": "", "job_kind": saved.type, "job_parameters": saved.parameters, "job_status": "",
            "deleted": False, "creation_time": saved.creation_time, "update_time": saved.update_time,
            "schedule": {"type": saved.type, "cron": saved.cron,
                         "next_scheduled_time": clock.iso(following) if following else None}}


def _execution(api: JobApi, raw_id: str) -> ExecutionRecord:
    execution_id = path_int(raw_id)
    found = system_jobs.look_up(api.job, execution_id)
    if found is None:
        raise harbor_error("NOT_FOUND", f"{api.job.title} {execution_id} not found")
    return found


_QUERY_KEYS = ("job_status", "job_kind", "status", "trigger")
_ALIASES = {"status": "job_status", "trigger": "job_kind"}


def history(api: JobApi, ctx: ApiContext) -> HttpResponse:
    ctx.require_sysadmin()
    page = page_of(ctx.request)
    conditions = {_ALIASES.get(k, k): c for k, c in query_of(ctx.request, _QUERY_KEYS, integers=("id",)).items()}
    key, descending = sort_of(ctx.request, ("id", "creation_time", "update_time"), "-creation_time")
    entries = sorted((execution_json(api.job, e) for e in system_jobs.history(api.job)),  # 50 kept: sorted here
                     key=lambda entry: (entry[key], entry["id"]), reverse=descending)
    selected, total = window(entries, page, lambda e: all(c.matches(e[k]) for k, c in conditions.items()))
    return respond(200, selected, list_headers(ctx.request, f"/api/v2.0{api.path}", page, total))


def get_execution(api: JobApi, ctx: ApiContext, execution_id: str) -> HttpResponse:
    ctx.require_sysadmin()
    return respond(200, execution_json(api.job, _execution(api, execution_id)))


def stop(api: JobApi, ctx: ApiContext, execution_id: str) -> HttpResponse:
    ctx.require_sysadmin()
    system_jobs.stop(api.job, _execution(api, execution_id).execution_id)
    return respond(200)


def log(api: JobApi, ctx: ApiContext, execution_id: str) -> HttpResponse:
    ctx.require_sysadmin()
    found = _execution(api, execution_id)
    text = system_jobs.read_log(api.job, found.execution_id)
    if text is None:
        raise harbor_error("NOT_FOUND", api.missing_log.format(id=found.execution_id))
    return HttpResponse(200, {"Content-Type": "text/plain; charset=utf-8"}, text)


def get_schedule(api: JobApi, ctx: ApiContext) -> HttpResponse:
    ctx.require_sysadmin()
    saved = system_jobs.schedule(api.job)
    return respond(200, _schedule_json(saved) if saved else None)


def _kick(api: JobApi, ctx: ApiContext) -> int:
    """Harbor's kick: Manual runs now (the new id), None removes the schedule, the others replace it."""
    body = ctx.body()
    schedule = body.get("schedule")
    if not isinstance(schedule, dict):
        raise harbor_error("BAD_REQUEST", "schedule cann't be empty")
    parameters = body.get("parameters")
    api.check_parameters(parameters)
    kind = schedule.get("type")
    if kind == "Manual":
        return api.trigger(parameters).execution_id
    if kind == "None":
        system_jobs.delete_schedule(api.job)
    elif kind in PERIODIC:
        api.save_schedule(kind, str(schedule.get("cron") or ""), parameters)
    else:
        raise harbor_error("BAD_REQUEST", f"invalid schedule type: {str(kind)[:20]}")
    return 0


def create_schedule(api: JobApi, ctx: ApiContext) -> HttpResponse:
    ctx.require_sysadmin()
    execution_id = _kick(api, ctx)
    return respond(201, headers={"Location": f"/api/v2.0{api.path}/{execution_id}"})


def update_schedule(api: JobApi, ctx: ApiContext) -> HttpResponse:
    ctx.require_sysadmin()
    _kick(api, ctx)
    return respond(200)


def _routes(api: JobApi, id_name: str) -> list[tuple[str, str, Callable[..., HttpResponse]]]:
    """The schedule's literal path before the id's template, which would match it."""
    by_id = f"{api.path}/{{{id_name}}}"
    return [("GET", f"{api.path}/schedule", lambda ctx: get_schedule(api, ctx)),
            ("POST", f"{api.path}/schedule", lambda ctx: create_schedule(api, ctx)),
            ("PUT", f"{api.path}/schedule", lambda ctx: update_schedule(api, ctx)),
            ("GET", api.path, lambda ctx: history(api, ctx)),
            ("GET", by_id, lambda ctx, **ids: get_execution(api, ctx, ids[id_name])),
            ("PUT", by_id, lambda ctx, **ids: stop(api, ctx, ids[id_name])),
            ("GET", f"{by_id}/log", lambda ctx, **ids: log(api, ctx, ids[id_name]))]


ROUTES = [*_routes(GC, "gc_id"), *_routes(PURGE, "purge_id")]
