"""Scan jobs: started by the API (placeholders + a queue message), run by functions/scan.py.

A job scans one artifact with one scanner and owns that artifact's reports for every MIME type the
scanner produces. The built-in Trivy runs in the worker itself; an external adapter gets POST /scan,
then its report is polled by delayed queue messages (no worker sits waiting). Every way a job ends
is written to its log (S3) and its reports: Success, Error with the reason, or Stopped.
"""

from __future__ import annotations

import base64
import time
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

from chalicelib import clock, events, projects
from chalicelib.auth import robots, tokens
from chalicelib.config import settings
from chalicelib.errors import DomainError, Invalid
from chalicelib.observability import logger
from chalicelib.registry import formats, records
from chalicelib.scan import adapter, reports, scan_all, scanners, severity, trivy
from chalicelib.store import objects, queue

FIRST_POLL_SECONDS = 2  # Harbor polls an adapter's report first after 2 s
TIMEOUT_MARGIN_SECONDS = 120  # beyond trivy's own limit, before a silent job counts as crashed


class NoScanner(DomainError):
    """The project has no usable scanner."""

    def __init__(self, message: str) -> None:
        super().__init__("PRECONDITION", message)


class NothingToScan(Invalid):
    """No artifact in the tree is one the scanner supports."""


@dataclass
class Job:
    job_id: str
    digest: str
    repository: str
    scanner_uuid: str
    mime_types: list[str]
    registry_url: str
    tag: str = ""
    media_type: str = ""
    scan_all_id: str = ""
    # Set once an external adapter accepted the scan.
    request_id: str = ""
    robot_id: int = 0
    started: float = 0.0
    previous_report_ids: list[str] = field(default_factory=list)
    # Log lines of the current step, written to S3 once when the step ends (not part of the message).
    unwritten_log: list[str] = field(default_factory=list)

    def message(self, kind: str) -> dict[str, Any]:
        return {"kind": kind, **{k: v for k, v in asdict(self).items() if k != "unwritten_log"}}

    @classmethod
    def of(cls, message: dict[str, Any]) -> Job:
        return cls(**{k: v for k, v in message.items() if k != "kind"})


def log_key(job_id: str) -> str:
    return f"scans/logs/{job_id}.log"


def _log(job: Job, line: str) -> None:
    job.unwritten_log.append(f"{clock.iso()} {line}\n")


def _write_log(job: Job) -> None:
    """Append the step's lines to the job's log in S3 (a job's steps run one at a time, so
    read-append-write is safe): one read and one write per step."""
    if job.unwritten_log:
        key = log_key(job.job_id)
        objects.put(key, ((objects.get_text(key) or "") + "".join(job.unwritten_log)).encode())
        job.unwritten_log.clear()


def report_of(project: projects.Project, repository: str, artifact: records.Artifact,
              report_id: str) -> reports.Report | None:
    """One of the artifact's reports (its own, or its children's for an index) by id."""
    registration = scanners.of_project(project)
    if registration is None:
        return None
    return next((r for target in targets(repository, artifact) for r in reports.reports_for(target.digest,
                 registration.uuid) if r.report_id == report_id), None)


def read_log(report: reports.Report) -> str:
    """The log of the job that made the report, and why it ended when the job could not say it
    (a job that never reported back)."""
    text = objects.get_text(log_key(report.job_id)) or ""
    if report.message and report.message not in text:
        text += f"{report.end_time or ''} {report.message}\n"
    return text


def scannable(artifact: records.Artifact) -> bool:
    image = artifact.manifest_media_type in formats.MANIFEST_TYPES and artifact.type == "IMAGE"
    return image and not artifact.accessory_of


def targets(repository: str, artifact: records.Artifact) -> list[records.Artifact]:
    """What a scan of `artifact` scans: itself, or an index's children (accessories never)."""
    if artifact.accessory_of:
        return []
    if artifact.manifest_media_type not in formats.INDEX_TYPES:
        return [artifact] if scannable(artifact) else []
    found: list[records.Artifact] = []
    for reference in artifact.references:
        child = records.get_artifact(repository, reference["child_digest"])
        if child is not None:
            found += targets(repository, child)
    return found


def scanner_for(project: projects.Project) -> scanners.Registration:
    registration = scanners.of_project(project)
    if registration is None:
        raise NoScanner(f"no available scanner for project: {project.name}")
    if registration.disabled:
        raise NoScanner(f"scanner {registration.name} is deactivated")
    return registration


def start(project: projects.Project, repository: str, artifact: records.Artifact, registry_url: str,
          scan_all_id: str = "") -> int:
    """Place Pending reports for every target and queue their jobs; returns how many were queued.
    NoScanner, NothingToScan, or ScanConflict when every target is still being scanned."""
    registration = scanner_for(project)
    found = targets(repository, artifact)
    if not found:
        raise NothingToScan(f"the scanner {registration.name} supports no artifact in {repository}@{artifact.digest}")
    messages, conflict = [], None
    for target in found:
        job = Job(str(uuid.uuid4()), target.digest, repository, registration.uuid, registration.produces,
                  registry_url, target.tags[0].name if target.tags else "", target.manifest_media_type, scan_all_id)
        try:
            job.previous_report_ids = reports.place(
                target.digest, registration.uuid, registration.scanner, registration.produces, job.job_id,
                {"repository": repository, "digest": target.digest, "mime_type": target.manifest_media_type})
        except reports.ScanConflict as error:
            conflict = error
            continue
        messages.append(job.message("scan"))
    if not messages and conflict:
        raise conflict
    queue.send_many(messages)
    return len(messages)


def scan_on_push(pushed: events.ArtifactPushed) -> None:
    """Scan on push, when the project's auto_scan is on. A push never fails because its scan could not
    be queued: the artifact can be scanned later."""
    if pushed.project.metadata.get("auto_scan") != "true":
        return
    artifact = records.get_artifact(pushed.repository, pushed.digest)
    if artifact is None or artifact.accessory_of:
        return
    try:
        start(pushed.project, pushed.repository, artifact, pushed.registry_url)
    except (NoScanner, NothingToScan, reports.ScanConflict) as error:
        logger.info("no scan on push", extra={"digest": pushed.digest, "reason": str(error)})


def handle(message: dict[str, Any]) -> None:
    """One queue message: a scan to run, an adapter report to poll, or a scan-all to fan out."""
    kind = message.get("kind")
    if kind == "scan":
        run(Job.of(message))
    elif kind == "poll":
        poll(Job.of(message))
    elif kind == "scan_all":
        scan_all.fan_out(message["execution_id"], _start_for_scan_all)
    elif kind == "scan_all_scheduled":  # sent by the EventBridge schedule
        try:
            scan_all.trigger("Schedule")
        except scan_all.AlreadyRunning:
            logger.info("scheduled scan all skipped: the previous one is still running")
    else:
        logger.warning("unknown scan message dropped", extra={"kind": kind})


def _start_for_scan_all(project: projects.Project, repository: str, artifact: records.Artifact,
                        execution_id: str) -> int:
    try:
        return start(project, repository, artifact, settings().external_url or "", execution_id)
    except (NoScanner, NothingToScan, reports.ScanConflict):
        return 0


def run(job: Job) -> None:
    try:
        _run(job)
    finally:
        _write_log(job)


def _run(job: Job) -> None:
    registration = scanners.get(job.scanner_uuid)
    timeout = settings().scan_timeout_seconds
    if registration is not None and not registration.builtin:
        timeout = settings().adapter_timeout_seconds
    if scan_all.stopped(job.scan_all_id):
        reports.stop(job.digest, job.scanner_uuid)
        _log(job, "the scan-all run was stopped before this scan started")
        scan_all.count(job.scan_all_id, reports.STOPPED)
        return
    if not reports.claim(job.digest, job.scanner_uuid, job.mime_types, job.job_id, timeout + TIMEOUT_MARGIN_SECONDS):
        logger.info("scan job no longer owns its reports", extra={"job_id": job.job_id})
        return
    scan_all.count(job.scan_all_id, "started")
    reports.delete_links(job.previous_report_ids)
    job.started = time.time()
    _log(job, f"scanning {job.repository}@{job.digest} with {registration.name if registration else '?'}")
    try:
        if registration is None:
            raise trivy.ScanFailed("the scanner registration was deleted before the scan ran")
        if registration.builtin:
            outcome = trivy.scan(job.repository, job.digest, registration.scanner, settings().scan_timeout_seconds)
            _log(job, f"image read from S3 in {outcome.layout_seconds:.2f} s; trivy {trivy.VERSION} finished in "
                      f"{outcome.trivy_seconds:.2f} s, peak memory {outcome.peak_rss_kib // 1024} MiB, "
                      f"{len(outcome.report['vulnerabilities'])} vulnerabilities")
            _finish(job, {mime: outcome.report for mime in job.mime_types})
        else:
            _submit(job, registration)
    except (trivy.ScanFailed, adapter.AdapterError) as error:
        _fail(job, str(error))
    except Exception as error:  # a bug must still end the job visibly, never leave it Running
        logger.exception("scan job crashed", extra={"job_id": job.job_id})
        _fail(job, f"internal error: {type(error).__name__}")


def _registry_authorization(job: Job, robot: robots.Robot, secret: str, properties: dict[str, Any]) -> str:
    if properties.get(adapter.AUTHORIZATION_TYPE) == "Bearer":
        token = tokens.issue(robot.name, [tokens.Access("repository", job.repository, ("pull",))])["token"]
        return f"Bearer {token}"
    return "Basic " + base64.b64encode(f"{robot.name}:{secret}".encode()).decode()


def _submit(job: Job, registration: scanners.Registration) -> None:
    """Hand the scan to the adapter with a temporary robot that may only pull the project's images."""
    properties = adapter.metadata(scanners.endpoint(registration))["properties"]
    project = projects.get_project(job.repository.split("/", 1)[0])
    if project is None:
        raise RuntimeError(f"the project of {job.repository} was deleted")
    secret = robots.generate_secret()
    robot = robots.create_robot(
        f"{robots.PREFIX}{project.name}+{registration.name}-{job.job_id[:8]}", "for scan", "project", 1, False,
        [{"kind": "project", "namespace": project.name, "access": [
            {"resource": "repository", "action": "pull"}, {"resource": "repository", "action": "scanner-pull"}]}],
        {project.name: project.project_id}, secret)
    job.robot_id = robot.robot_id
    authorization = _registry_authorization(job, robot, secret, properties)
    job.request_id = adapter.submit(scanners.endpoint(registration), job.registry_url, authorization, job.repository,
                                    job.digest, job.tag, job.media_type)
    _log(job, f"the adapter accepted the scan request {job.request_id}")
    queue.send(job.message("poll"), delay_seconds=FIRST_POLL_SECONDS)


def poll(job: Job) -> None:
    try:
        _poll(job)
    finally:
        _write_log(job)


def _poll(job: Job) -> None:
    registration = scanners.get(job.scanner_uuid)
    try:
        if registration is None:
            raise adapter.AdapterError("the scanner registration was deleted during the scan")
        results: dict[str, dict[str, Any]] = {}
        for mime in job.mime_types:
            answer = adapter.fetch_report(scanners.endpoint(registration), job.request_id, mime)
            if isinstance(answer, int):
                if time.time() - job.started > settings().adapter_timeout_seconds:
                    raise adapter.AdapterError(
                        f"the adapter's report was not ready after {settings().adapter_timeout_seconds} s")
                _log(job, f"report not ready, asking again in {answer} s")
                queue.send(job.message("poll"), delay_seconds=answer)
                return
            results[mime] = _adapter_report(answer, registration, job)
        _finish(job, results)
    except adapter.AdapterError as error:
        _fail(job, str(error))
    except Exception as error:
        logger.exception("scan poll crashed", extra={"job_id": job.job_id})
        _fail(job, f"internal error: {type(error).__name__}")


def _adapter_report(report: dict[str, Any], registration: scanners.Registration, job: Job) -> dict[str, Any]:
    """An adapter's report with Harbor's normalisation (2.5 step 1) and the fields the store needs."""
    items = []
    for raw in report.get("vulnerabilities") or []:
        if not isinstance(raw, dict) or not raw.get("id") or not raw.get("package"):
            raise adapter.AdapterError("the adapter's report has a vulnerability without id or package")
        items.append({**raw, "version": raw.get("version", ""), "severity": severity.normalise(raw.get("severity")),
                      "links": list(raw.get("links") or []), "cwe_ids": list(raw.get("cwe_ids") or []),
                      "vendor_attributes": raw.get("vendor_attributes") or {}})
    return {**report, "scanner": report.get("scanner") or registration.scanner,
            "severity": severity.overall(i["severity"] for i in items), "vulnerabilities": items}


def _end_robot(job: Job) -> None:
    if job.robot_id:
        robot = robots.get_robot_by_id(job.robot_id)
        if robot is not None:
            robots.delete_robot(robot)


def _finish(job: Job, results: dict[str, dict[str, Any]]) -> None:
    _end_robot(job)
    if reports.complete(job.digest, job.scanner_uuid, job.job_id, results):
        _log(job, "report stored")
        scan_all.count(job.scan_all_id, reports.SUCCESS)
    else:
        _log(job, "the scan was stopped or replaced meanwhile: its results were discarded")
        scan_all.count(job.scan_all_id, reports.STOPPED)


def _fail(job: Job, reason: str) -> None:
    _end_robot(job)
    _log(job, f"scan failed: {reason}")
    if reports.fail(job.digest, job.scanner_uuid, job.mime_types, job.job_id, reason):
        scan_all.count(job.scan_all_id, reports.ERROR)

