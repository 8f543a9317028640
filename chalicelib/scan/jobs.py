"""Scan jobs: what a scan is and how it starts (Pending reports, then a job on the queue); the worker
runs it (scan/worker.py).

A job scans one artifact with one scanner and owns that artifact's reports for every MIME type the
scanner produces.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

from chalicelib import events, projects
from chalicelib.config import settings
from chalicelib.errors import DomainError, Invalid
from chalicelib.jobs import kernel
from chalicelib.observability import logger
from chalicelib.registry import formats, records
from chalicelib.scan import reports, scan_all, scanners


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


def report_of(project: projects.Project, repository: str, artifact: records.Artifact,
              report_id: str) -> reports.Report | None:
    """One of the artifact's reports (its own, or its children's for an index) by id."""
    registration = scanners.of_project(project)
    if registration is None:
        return None
    return next((r for target in targets(repository, artifact) for r in reports.reports_for(target.digest,
                 registration.uuid) if r.report_id == report_id), None)


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
    kernel.enqueue_many(messages)
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


def start_scan_all(fields: dict[str, Any]) -> None:
    """The queued fan-out of a scan-all execution."""
    scan_all.fan_out(fields["execution_id"], _start_for_scan_all)


def start_scheduled_scan_all(fields: dict[str, Any]) -> None:
    """Sent by the EventBridge schedule."""
    try:
        scan_all.trigger("Schedule")
    except scan_all.AlreadyRunning:
        logger.info("scheduled scan all skipped: the previous one is still running")


def _start_for_scan_all(project: projects.Project, repository: str, artifact: records.Artifact,
                        execution_id: str) -> int:
    try:
        return start(project, repository, artifact, settings().external_url or "", execution_id)
    except (NoScanner, NothingToScan, reports.ScanConflict):
        return 0


