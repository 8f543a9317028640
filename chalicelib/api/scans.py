"""Scanning through the API: scan an artifact, stop it, read its log; scan all and its schedule."""

from __future__ import annotations

from typing import Any

from chalicelib import clock, schedules
from chalicelib.api.artifacts import find_artifact
from chalicelib.api.context import ApiContext, respond
from chalicelib.errors import ServiceError, harbor_error
from chalicelib.http import HttpResponse
from chalicelib.scan import jobs, reports, scan_all, scanners
from chalicelib.store import metadata, objects

SCHEDULE_NAME = "scan-all"
_SCHEDULE_KEY = (scan_all.SCANALL, "SCHEDULE")


def scan_artifact(ctx: ApiContext, project_name: str, repository_name: str, reference: str) -> HttpResponse:
    project, repository, artifact = find_artifact(ctx, project_name, repository_name, reference, ("scan", "create"))
    try:
        jobs.start(project.name, repository.name, artifact, ctx.request.base_url)
    except jobs.NoScanner as error:
        raise ServiceError("PRECONDITION", str(error)) from error
    except jobs.NothingToScan as error:
        raise harbor_error("BAD_REQUEST", str(error)) from error
    except reports.ScanConflict as error:
        raise ServiceError("CONFLICT", f"a previous scan process is {error.status}") from error
    return respond(202)


def stop_scan(ctx: ApiContext, project_name: str, repository_name: str, reference: str) -> HttpResponse:
    project, repository, artifact = find_artifact(ctx, project_name, repository_name, reference, ("scan", "stop"))
    registration = scanners.of_project(project.name)
    digests = [t.digest for t in jobs.targets(repository.name, artifact)]
    if registration is None or not any([reports.stop(d, registration.uuid) for d in digests]):
        raise harbor_error("BAD_REQUEST", f"no scan of {artifact.digest} is running")
    return respond(202)


def report_log(ctx: ApiContext, project_name: str, repository_name: str, reference: str,
               report_id: str) -> HttpResponse:
    project, repository, artifact = find_artifact(ctx, project_name, repository_name, reference, ("scan", "read"))
    registration = scanners.of_project(project.name)
    digests = [t.digest for t in jobs.targets(repository.name, artifact)] if registration else []
    found = next((r for d in digests for r in reports.reports_for(d, registration.uuid)  # type: ignore[union-attr]
                  if r.report_id == report_id), None)
    if found is None:
        raise harbor_error("NOT_FOUND", f"report {report_id[:64]} not found")
    text = objects.get_text(jobs.log_key(found.job_id)) or ""
    if found.message and found.message not in text:  # e.g. a job that never reported back
        text += f"{found.end_time or ''} {found.message}\n"
    return HttpResponse(200, {"Content-Type": "text/plain; charset=utf-8"}, text)


def _schedule_json(item: metadata.Item | None) -> dict[str, Any]:
    if item is None:
        return {}
    return {"id": 1, "status": "Scheduled", "creation_time": item["creation_time"], "update_time": item["update_time"],
            "schedule": {"type": item["type"], "cron": item["cron"]}}


def _schedule_body(ctx: ApiContext) -> tuple[str, str]:
    schedule = ctx.body().get("schedule")
    if not isinstance(schedule, dict) or schedule.get("type") not in (*schedules.PRESETS, "Custom", "Manual", "None"):
        raise harbor_error("BAD_REQUEST", "schedule.type must be Hourly, Daily, Weekly, Custom, Manual or None")
    kind = schedule["type"]
    cron = schedules.PRESETS.get(kind) or str(schedule.get("cron") or "")
    return kind, cron


def _require_scanner() -> None:
    if scanners.default_uuid() is None:
        raise ServiceError("PRECONDITION", "no default scanner is configured")


def _save_schedule(kind: str, cron: str, created: str | None) -> None:
    try:
        schedules.put(SCHEDULE_NAME, cron, {"kind": "scan_all_scheduled"})
    except schedules.InvalidCron as error:
        raise harbor_error("BAD_REQUEST", str(error)) from error
    now = clock.iso()
    metadata.put({"PK": _SCHEDULE_KEY[0], "SK": _SCHEDULE_KEY[1], "type": kind, "cron": cron,
                  "creation_time": created or now, "update_time": now})


def get_schedule(ctx: ApiContext) -> HttpResponse:
    ctx.require_sysadmin()
    return respond(200, _schedule_json(metadata.get(*_SCHEDULE_KEY)))


def create_schedule(ctx: ApiContext) -> HttpResponse:
    """Manual starts a scan of every artifact now; a periodic type creates the schedule."""
    ctx.require_sysadmin()
    _require_scanner()
    kind, cron = _schedule_body(ctx)
    if kind == "Manual":
        try:
            scan_all.trigger("Manual")
        except scan_all.AlreadyRunning as error:
            raise ServiceError("CONFLICT", "a previous scan all job is still running") from error
    elif kind == "None":
        raise harbor_error("BAD_REQUEST", "nothing to create for schedule type None")
    elif metadata.get(*_SCHEDULE_KEY) is not None:
        raise ServiceError("CONFLICT", "the scan all schedule already exists: update it instead")
    else:
        _save_schedule(kind, cron, None)
    return respond(201)


def update_schedule(ctx: ApiContext) -> HttpResponse:
    ctx.require_sysadmin()
    _require_scanner()
    kind, cron = _schedule_body(ctx)
    if kind == "Manual":
        raise harbor_error("BAD_REQUEST", "fail to update scan all schedule as wrong schedule type: Manual")
    existing = metadata.get(*_SCHEDULE_KEY)
    if kind == "None":
        schedules.delete(SCHEDULE_NAME)
        metadata.delete(*_SCHEDULE_KEY)
    else:
        _save_schedule(kind, cron, existing["creation_time"] if existing else None)
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
