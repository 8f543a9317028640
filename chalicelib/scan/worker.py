"""Running scan jobs (the worker's side): the built-in Trivy runs here; an external adapter gets the
scan with a temporary robot that may only pull, then its report is polled by delayed queue messages
(no worker sits waiting). Every way a job ends is written to its log and its reports: Success, Error
with the reason, or Stopped."""

from __future__ import annotations

import base64
import time
from typing import Any

from chalicelib import configurations, projects
from chalicelib.auth import robots, tokens
from chalicelib.config import settings
from chalicelib.jobs import kernel
from chalicelib.observability import logger
from chalicelib.scan import adapter, logs, reports, scan_all, scanners, trivy
from chalicelib.scan.jobs import Job

FIRST_POLL_SECONDS = 2  # Harbor polls an adapter's report first after 2 s
TIMEOUT_MARGIN_SECONDS = 120  # beyond trivy's own limit, before a silent job counts as crashed


def run_message(fields: dict[str, Any]) -> None:
    run(Job.of(fields))


def poll_message(fields: dict[str, Any]) -> None:
    poll(Job.of(fields))


def run(job: Job) -> None:
    try:
        _run(job)
    finally:
        logs.write(job)


def _run(job: Job) -> None:
    registration = scanners.get(job.scanner_uuid)
    timeout = settings().scan_timeout_seconds
    if registration is not None and not registration.builtin:
        timeout = settings().adapter_timeout_seconds
    if scan_all.stopped(job.scan_all_id):
        reports.stop(job.digest, job.scanner_uuid)
        logs.add(job, "the scan-all run was stopped before this scan started")
        scan_all.count(job.scan_all_id, reports.STOPPED)
        return
    if not reports.claim(job.digest, job.scanner_uuid, job.mime_types, job.job_id, timeout + TIMEOUT_MARGIN_SECONDS):
        logger.info("scan job no longer owns its reports", extra={"job_id": job.job_id})
        return
    scan_all.count(job.scan_all_id, "started")
    reports.delete_links(job.previous_report_ids)
    job.started = time.time()
    logs.add(job, f"scanning {job.repository}@{job.digest} with {registration.name if registration else '?'}")
    try:
        if registration is None:
            raise trivy.ScanFailed("the scanner registration was deleted before the scan ran")
        if registration.builtin:
            outcome = trivy.scan(job.repository, job.digest, registration.scanner, settings().scan_timeout_seconds)
            logs.add(job, f"image read from S3 in {outcome.layout_seconds:.2f} s; trivy {trivy.VERSION} finished in "
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
        f"{configurations.robot_name_prefix()}{project.name}+{registration.name}-{job.job_id[:8]}", "for scan",
        "project", 1, False,
        [{"kind": "project", "namespace": project.name, "access": [
            {"resource": "repository", "action": "pull"}, {"resource": "repository", "action": "scanner-pull"}]}],
        {project.name: project.project_id}, secret)
    job.robot_id = robot.robot_id
    authorization = _registry_authorization(job, robot, secret, properties)
    job.request_id = adapter.submit(scanners.endpoint(registration), job.registry_url, authorization, job.repository,
                                    job.digest, job.tag, job.media_type)
    logs.add(job, f"the adapter accepted the scan request {job.request_id}")
    kernel.enqueue(job.message("poll"), delay_seconds=FIRST_POLL_SECONDS)


def poll(job: Job) -> None:
    try:
        _poll(job)
    finally:
        logs.write(job)


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
                logs.add(job, f"report not ready, asking again in {answer} s")
                kernel.enqueue(job.message("poll"), delay_seconds=answer)
                return
            results[mime] = adapter.normalised(answer, registration.scanner)
        _finish(job, results)
    except adapter.AdapterError as error:
        _fail(job, str(error))
    except Exception as error:
        logger.exception("scan poll crashed", extra={"job_id": job.job_id})
        _fail(job, f"internal error: {type(error).__name__}")


def _end_robot(job: Job) -> None:
    if job.robot_id:
        robot = robots.get_robot_by_id(job.robot_id)
        if robot is not None:
            robots.delete_robot(robot)


def _finish(job: Job, results: dict[str, dict[str, Any]]) -> None:
    _end_robot(job)
    if reports.complete(job.digest, job.scanner_uuid, job.job_id, results):
        logs.add(job, "report stored")
        scan_all.count(job.scan_all_id, reports.SUCCESS)
    else:
        logs.add(job, "the scan was stopped or replaced meanwhile: its results were discarded")
        scan_all.count(job.scan_all_id, reports.STOPPED)


def _fail(job: Job, reason: str) -> None:
    _end_robot(job)
    logs.add(job, f"scan failed: {reason}")
    if reports.fail(job.digest, job.scanner_uuid, job.mime_types, job.job_id, reason):
        scan_all.count(job.scan_all_id, reports.ERROR)

