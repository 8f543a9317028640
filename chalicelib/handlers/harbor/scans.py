"""Scanning through the API: scan an artifact, stop it, read its log; scan all and its schedule."""

from __future__ import annotations

from typing import Any

from chalicelib import schedules
from chalicelib.errors import DomainError, harbor_error
from chalicelib.handlers.harbor.context import ApiContext, respond
from chalicelib.handlers.harbor.repositories import find_artifact
from chalicelib.handlers.http import HttpResponse
from chalicelib.scan import jobs, logs, reports, scan_all, scanners


def scan_artifact(ctx: ApiContext, project_name: str, repository_name: str, reference: str) -> HttpResponse:
    project, repository, artifact = find_artifact(ctx, project_name, repository_name, reference, ("scan", "create"))
    jobs.start(project, repository.name, artifact, ctx.request.base_url)
    return respond(202)


def stop_scan(ctx: ApiContext, project_name: str, repository_name: str, reference: str) -> HttpResponse:
    project, repository, artifact = find_artifact(ctx, project_name, repository_name, reference, ("scan", "stop"))
    registration = scanners.of_project(project)
    digests = [t.digest for t in jobs.targets(repository.name, artifact)]
    if registration is None or not any([reports.stop(d, registration.uuid) for d in digests]):
        raise harbor_error("BAD_REQUEST", f"no scan of {artifact.digest} is running")
    return respond(202)


def report_log(ctx: ApiContext, project_name: str, repository_name: str, reference: str,
               report_id: str) -> HttpResponse:
    project, repository, artifact = find_artifact(ctx, project_name, repository_name, reference, ("scan", "read"))
    found = jobs.report_of(project, repository.name, artifact, report_id)
    if found is None:
        raise harbor_error("NOT_FOUND", f"report {report_id[:64]} not found")
    return HttpResponse(200, {"Content-Type": "text/plain; charset=utf-8"}, logs.read(found))


def _schedule_json(saved: scan_all.Schedule | None) -> dict[str, Any]:
    if saved is None:
        return {}
    return {"id": 1, "status": "Scheduled", "creation_time": saved.creation_time,
            "update_time": saved.update_time, "schedule": {"type": saved.type, "cron": saved.cron}}


def _schedule_body(ctx: ApiContext) -> tuple[str, str]:
    schedule = ctx.body().get("schedule")
    if not isinstance(schedule, dict) or schedule.get("type") not in (*schedules.PRESETS, "Custom", "Manual", "None"):
        raise harbor_error("BAD_REQUEST", "schedule.type must be Hourly, Daily, Weekly, Custom, Manual or None")
    kind = schedule["type"]
    cron = schedules.PRESETS.get(kind) or str(schedule.get("cron") or "")
    return kind, cron


def _require_scanner() -> None:
    if scanners.default_uuid() is None:
        raise DomainError("PRECONDITION", "no default scanner is configured")


def get_schedule(ctx: ApiContext) -> HttpResponse:
    ctx.require_sysadmin()
    return respond(200, _schedule_json(scan_all.schedule()))


def create_schedule(ctx: ApiContext) -> HttpResponse:
    """Manual starts a scan of every artifact now; a periodic type creates the schedule."""
    ctx.require_sysadmin()
    _require_scanner()
    kind, cron = _schedule_body(ctx)
    if kind == "Manual":
        scan_all.trigger("Manual")
    elif kind == "None":
        raise harbor_error("BAD_REQUEST", "nothing to create for schedule type None")
    elif scan_all.schedule() is not None:
        raise DomainError("CONFLICT", "the scan all schedule already exists: update it instead")
    else:
        scan_all.save_schedule(kind, cron)
    return respond(201)


def update_schedule(ctx: ApiContext) -> HttpResponse:
    ctx.require_sysadmin()
    _require_scanner()
    kind, cron = _schedule_body(ctx)
    if kind == "Manual":
        raise harbor_error("BAD_REQUEST", "fail to update scan all schedule as wrong schedule type: Manual")
    if kind == "None":
        scan_all.delete_schedule()
    else:
        scan_all.save_schedule(kind, cron)
    return respond(200)


def scan_all_metrics(ctx: ApiContext) -> HttpResponse:
    ctx.require_sysadmin()
    _require_scanner()
    return respond(200, scan_all.metrics(scan_all.latest()))


def scheduled_metrics(ctx: ApiContext) -> HttpResponse:
    ctx.require_sysadmin()
    _require_scanner()
    return respond(200, scan_all.metrics(scan_all.latest("Schedule")))


def stop_scan_all(ctx: ApiContext) -> HttpResponse:
    ctx.require_sysadmin()
    if not scan_all.stop():
        raise harbor_error("BAD_REQUEST", "no scan all job is running")
    return respond(202)


_ARTIFACT = "/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}"
ROUTES = [
    ("POST", f"{_ARTIFACT}/scan", scan_artifact),
    ("POST", f"{_ARTIFACT}/scan/stop", stop_scan),
    ("GET", f"{_ARTIFACT}/scan/{{report_id}}/log", report_log),
    ("GET", "/system/scanAll/schedule", get_schedule),
    ("POST", "/system/scanAll/schedule", create_schedule),
    ("PUT", "/system/scanAll/schedule", update_schedule),
    ("POST", "/system/scanAll/stop", stop_scan_all),
    ("GET", "/scans/all/metrics", scan_all_metrics),
    ("GET", "/scans/schedule/metrics", scheduled_metrics),
]
