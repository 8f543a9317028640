"""Scan overviews (NativeReportSummary) for artifact lists and the vulnerabilities addition."""

from __future__ import annotations

from typing import Any

from chalicelib.projects import Project
from chalicelib.registry import formats, records
from chalicelib.scan import reports, scanners, severity


def summary_json(report: reports.Report) -> dict[str, Any]:
    body: dict[str, Any] = {
        "report_id": report.report_id, "scan_status": report.status, "severity": report.severity or "",
        "duration": report.duration, "start_time": report.start_time, "end_time": report.end_time,
        "complete_percent": 100 if report.status == reports.SUCCESS else 0, "scanner": report.scanner,
    }
    if report.status == reports.SUCCESS:
        body["summary"] = report.summary
    return body


def _merged(parts: list[reports.Report]) -> dict[str, Any]:
    """An index's overview: its children's reports together (the worst status and severity, summed counts)."""
    statuses = [r.status for r in parts]
    status = reports.merged_status(statuses)
    counts: dict[str, int] = {}
    for report in parts:
        for name, number in report.summary.get("summary", {}).items():
            counts[name] = counts.get(name, 0) + number
    body: dict[str, Any] = {
        "report_id": parts[0].report_id if len(parts) == 1 else "", "scan_status": status,
        "severity": severity.overall(r.severity for r in parts if r.severity),
        "duration": sum(r.duration for r in parts), "start_time": min(r.start_time for r in parts),
        "end_time": max(r.end_time for r in parts), "complete_percent": 100 * statuses.count(reports.SUCCESS)
        // len(parts), "scanner": parts[0].scanner,
    }
    if status == reports.SUCCESS:
        body["summary"] = {"total": sum(r.summary.get("total", 0) for r in parts),
                           "fixable": sum(r.summary.get("fixable", 0) for r in parts), "summary": counts}
    return body


def _scanned_digests(artifact: records.Artifact) -> list[str]:
    if artifact.manifest_media_type in formats.INDEX_TYPES:
        return [ref["child_digest"] for ref in artifact.references]
    return [artifact.digest]


def overviews(project: Project, artifacts: list[records.Artifact], accepted: list[str]) -> dict[str, dict[str, Any]]:
    """scan_overview per artifact digest, for the first accepted MIME type with reports; one BatchGet."""
    registration = scanners.of_project(project)
    if registration is None or not artifacts:
        return {}
    digests = {a.digest: _scanned_digests(a) for a in artifacts}
    found = reports.reports_of({(d, registration.uuid) for ds in digests.values() for d in ds}, accepted)
    result: dict[str, dict[str, Any]] = {}
    for artifact in artifacts:
        for mime in accepted:
            parts = [found[(d, mime)] for d in digests[artifact.digest] if (d, mime) in found]
            if parts:
                single = len(parts) == 1 and artifact.manifest_media_type not in formats.INDEX_TYPES
                result[artifact.digest] = {mime: summary_json(parts[0]) if single else _merged(parts)}
                break
    return result


def vulnerabilities(project: Project, artifact: records.Artifact, accepted: list[str]) -> dict[str, Any]:
    """{mime: report} for the first accepted MIME type with a finished report, or {} (Harbor's answer)."""
    registration = scanners.of_project(project)
    if registration is None:
        return {}
    digests = _scanned_digests(artifact)
    found = reports.reports_of({(d, registration.uuid) for d in digests}, accepted, links=True)
    for mime in accepted:
        parts = [found[(d, mime)] for d in digests if (d, mime) in found]
        done = [r for r in parts if r.status == reports.SUCCESS]
        if not done:
            continue
        items = [item for report in done for item in reports.vulnerabilities(report)]
        return {mime: {"generated_at": max(r.generated_at for r in done),
                       "artifact": {"repository": artifact.repository, "digest": artifact.digest,
                                    "mime_type": artifact.manifest_media_type},
                       "scanner": done[0].scanner, "severity": severity.overall(r.severity for r in done),
                       "vulnerabilities": items}}
    return {}
