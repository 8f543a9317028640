"""Scan reports and the vulnerability records they share (semantics-2.6.md 2.5), in DynamoDB.

Items (docs/data-model.md):
- a report per (digest, scanner, MIME type): PK=SCAN#<digest>, SK=REPORT#<scanner uuid>#<mime>, with its
  status, times, summary and the job that owns it;
- shared vulnerability records: PK=VULN#<scanner uuid>#<cve>, SK=["<package>","<version>"] (as JSON);
- a report's links to them: the record keys in the report item itself (`vuln_keys`, JSON), or, past
  INLINE_LINKS of them, in S3 at scans/links/<report id>.json (`links_object`), so the export reads
  a batch of reports and their links with BatchGets alone.
A report turns Success, links included, in one transaction after its records are written, so a
reader sees the whole previous state or the whole new report, never part of one.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from chalicelib import clock
from chalicelib.errors import Conflict
from chalicelib.store import metadata, objects

PENDING, RUNNING, SUCCESS, ERROR, STOPPED = "Pending", "Running", "Success", "Error", "Stopped"
ACTIVE = (PENDING, RUNNING)
PENDING_DEADLINE_SECONDS = 24 * 3600  # a job that never started (its message lost) ends Error after this
EXPIRED_MESSAGE = "the scan job did not finish in time (it crashed or was stopped by its platform)"
INLINE_LINKS = 2000  # record keys kept in the report item (~80 B each, well under the 400 KB item limit)
_SUMMARY_ATTRIBUTES = ("scanner_uuid", "mime_type", "report_id", "job_id", "status", "start_time", "end_time",
                       "deadline", "scanner", "severity", "summary", "generated_at", "message")


class ScanConflict(Conflict):
    """A scan of the artifact by this scanner is still running."""

    def __init__(self, status: str) -> None:
        super().__init__(f"a previous scan process is {status}")
        self.status = status


@dataclass(frozen=True)
class Report:
    digest: str
    scanner_uuid: str
    mime_type: str
    report_id: str
    job_id: str
    status: str
    start_time: str
    end_time: str
    scanner: dict[str, str]
    severity: str
    summary: dict[str, Any]
    generated_at: str
    message: str
    vuln_keys: tuple[tuple[str, str], ...] = ()
    links_object: str = ""

    @property
    def duration(self) -> int:
        if not self.start_time or not self.end_time:
            return 0
        return int(_parse(self.end_time) - _parse(self.start_time))


def _parse(moment: str) -> float:
    return datetime.strptime(moment, "%Y-%m-%dT%H:%M:%S.%fZ").timestamp()


def _pk(digest: str) -> str:
    return f"SCAN#{digest}"


def _sk(scanner_uuid: str, mime_type: str) -> str:
    return f"REPORT#{scanner_uuid}#{mime_type}"


def _report(item: metadata.Item) -> Report:
    status = item["status"]
    message = item.get("message", "")
    if status in ACTIVE and float(item.get("deadline", 0)) < time.time():
        status, message = ERROR, EXPIRED_MESSAGE
    return Report(item["PK"][len("SCAN#"):], item["scanner_uuid"], item["mime_type"], item["report_id"],
                  item["job_id"], status, item.get("start_time", ""), item.get("end_time", ""),
                  dict(item.get("scanner") or {}), item.get("severity", ""), _plain(item.get("summary") or {}),
                  item.get("generated_at", ""), message,
                  tuple((pk, sk) for pk, sk in json.loads(item.get("vuln_keys") or "[]")), item.get("links_object", ""))


def _plain(value: Any) -> Any:
    """DynamoDB numbers come back as Decimal; JSON wants ints."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return int(value) if isinstance(value, Decimal) else value


def reports_of(pairs: Iterable[tuple[str, str]], mime_types: Iterable[str], *,
               links: bool = False) -> dict[tuple[str, str], Report]:
    """Reports by (digest, mime type) for (digest, scanner uuid) pairs: one BatchGet for a whole page;
    their links (up to INLINE_LINKS keys each) only when asked for."""
    types = list(mime_types)
    wanted = [(_pk(digest), _sk(scanner, mime)) for digest, scanner in pairs for mime in types]
    found = (_report(i) for i in metadata.batch_get(wanted, attributes=None if links else _SUMMARY_ATTRIBUTES))
    return {(r.digest, r.mime_type): r for r in found}


def reports_for(digest: str, scanner_uuid: str) -> list[Report]:
    items, _ = metadata.query(_pk(digest), f"REPORT#{scanner_uuid}#")
    return [_report(i) for i in items]


def place(digest: str, scanner_uuid: str, scanner: dict[str, str], mime_types: list[str], job_id: str,
          artifact: dict[str, str]) -> list[str]:
    """New Pending reports of the job, replacing the old ones (whose ids are returned, for cleanup).
    ScanConflict when one is still running; a concurrent placement loses the same way."""
    current = {r.mime_type: r for r in reports_for(digest, scanner_uuid)}
    running = [r for r in current.values() if r.status in ACTIVE]
    if running:
        raise ScanConflict(running[0].status)
    now, deadline = clock.iso(), time.time() + PENDING_DEADLINE_SECONDS
    operations = []
    for mime in mime_types:
        item = {"PK": _pk(digest), "SK": _sk(scanner_uuid, mime), "scanner_uuid": scanner_uuid, "mime_type": mime,
                "report_id": str(uuid.uuid4()), "job_id": job_id, "status": PENDING, "start_time": now,
                "deadline": int(deadline), "scanner": scanner, "artifact": artifact}
        previous = current.get(mime)
        # Optimistic concurrency: the report must still be the one read above.
        operations.append(metadata.put_op(item, if_absent=previous is None,
                                          expected={"job_id": previous.job_id} if previous else None))
    try:
        metadata.transact(operations)
    except metadata.ConditionFailed as error:
        raise ScanConflict(RUNNING) from error
    return [r.report_id for r in current.values()]


def _guarded_update(digest: str, scanner_uuid: str, mime: str, job_id: str, fields: dict[str, Any],
                    from_statuses: tuple[str, ...]) -> dict[str, Any]:
    """An update of one report that applies only while the job owns it in one of `from_statuses`."""
    return metadata.set_fields_op(_pk(digest), _sk(scanner_uuid, mime), fields,
                                  expected={"job_id": job_id, "status": from_statuses})


def _transact(operations: list[metadata.Write]) -> bool:
    try:
        metadata.transact(operations)
    except metadata.ConditionFailed:
        return False
    return True


def _transition(digest: str, scanner_uuid: str, mime_types: list[str], job_id: str, fields: dict[str, Any],
                from_statuses: tuple[str, ...]) -> bool:
    """Move the job's reports to a new state in one transaction; False when they are no longer the
    job's or no longer in one of `from_statuses` (stopped, replaced)."""
    return _transact([_guarded_update(digest, scanner_uuid, mime, job_id, fields, from_statuses)
                      for mime in mime_types])


def claim(digest: str, scanner_uuid: str, mime_types: list[str], job_id: str, timeout_seconds: float) -> bool:
    """Pending -> Running; the deadline after which a silent job counts as failed."""
    return _transition(digest, scanner_uuid, mime_types, job_id, {
        "status": RUNNING, "start_time": clock.iso(), "deadline": int(time.time() + timeout_seconds)}, (PENDING,))


def fail(digest: str, scanner_uuid: str, mime_types: list[str], job_id: str, message: str) -> bool:
    return _transition(digest, scanner_uuid, mime_types, job_id,
                       {"status": ERROR, "end_time": clock.iso(), "message": message[:1000]}, ACTIVE)


def stop(digest: str, scanner_uuid: str) -> bool:
    """Stop the active reports of the artifact; False when none was active."""
    stopped = False
    for report in reports_for(digest, scanner_uuid):
        if report.status in ACTIVE:
            stopped |= _transition(digest, scanner_uuid, [report.mime_type], report.job_id,
                                   {"status": STOPPED, "end_time": clock.iso(), "message": "stopped by a user"},
                                   ACTIVE)
    return stopped


def complete(digest: str, scanner_uuid: str, job_id: str, results: dict[str, dict[str, Any]]) -> bool:
    """Store each MIME type's report (its vulnerabilities as shared records and links), then turn all
    of them Success in one transaction. False (links removed) when the job lost its reports meanwhile."""
    report_ids = {r.mime_type: r.report_id for r in reports_for(digest, scanner_uuid) if r.job_id == job_id}
    if set(report_ids) != set(results):
        return False
    links = {mime: _links(report_ids[mime], _store_vulnerabilities(scanner_uuid, report.get("vulnerabilities") or []))
             for mime, report in results.items()}
    now = clock.iso()
    operations = [_guarded_update(digest, scanner_uuid, mime, job_id, {
        "status": SUCCESS, "end_time": now, "severity": report["severity"],
        "summary": summarise(report.get("vulnerabilities") or []), "generated_at": report.get("generated_at") or now,
        "vuln_keys": links[mime][0], "links_object": links[mime][1]}, (RUNNING,))
                  for mime, report in results.items()]
    if _transact(operations):
        return True
    delete_links(report_ids.values())
    return False


def summarise(vulnerabilities: list[dict[str, Any]]) -> dict[str, Any]:
    """VulnerabilitySummary: totals, fixable count and counts per severity found."""
    counts: dict[str, int] = {}
    for item in vulnerabilities:
        counts[item["severity"]] = counts.get(item["severity"], 0) + 1
    fixable = sum(1 for item in vulnerabilities if item.get("fix_version"))
    return {"total": len(vulnerabilities), "fixable": fixable, "summary": counts}


def _record_key(scanner_uuid: str, item: dict[str, Any]) -> tuple[str, str]:
    return f"VULN#{scanner_uuid}#{item['id']}", json.dumps([item["package"], item["version"]])


def _record(scanner_uuid: str, item: dict[str, Any]) -> metadata.Item:
    pk, sk = _record_key(scanner_uuid, item)
    cvss = item.get("preferred_cvss") or {}
    return {"PK": pk, "SK": sk, "cve_id": item["id"], "registration_uuid": scanner_uuid, "package": item["package"],
            "package_version": item["version"], "package_type": "Unknown", "severity": item["severity"],
            "fixed_version": item.get("fix_version") or "", "urls": "|".join(item.get("links") or []),
            "cvss_score_v3": _decimal(cvss.get("score_v3")), "cvss_score_v2": _decimal(cvss.get("score_v2")),
            "cvss_vector_v3": cvss.get("vector_v3") or "", "cvss_vector_v2": cvss.get("vector_v2") or "",
            "description": item.get("description") or "", "cwe_ids": ",".join(item.get("cwe_ids") or []),
            "vendor_attributes": json.dumps(item["vendor_attributes"]) if item.get("vendor_attributes") else None}


def _decimal(value: Any) -> Any:
    return None if value is None else Decimal(str(value))


def _store_vulnerabilities(scanner_uuid: str, vulnerabilities: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Shared records are inserted when missing and updated in place when their severity changed
    (which changes older reports too, as in Harbor). Returns their keys."""
    records = {_record_key(scanner_uuid, v): _record(scanner_uuid, v) for v in vulnerabilities}
    existing = {(i["PK"], i["SK"]): i for i in metadata.batch_get(records)}
    metadata.batch_put(record for k, record in records.items()
                       if k not in existing or existing[k].get("severity") != record["severity"])
    return list(records)


def _links_key(report_id: str) -> str:
    return f"scans/links/{report_id}.json"


def _links(report_id: str, keys: list[tuple[str, str]]) -> tuple[str, str]:
    """(keys kept in the item, S3 object holding them instead), as JSON: one string attribute is far
    cheaper to read and write than a list of lists; a long list goes to S3."""
    if len(keys) <= INLINE_LINKS:
        return json.dumps(keys), ""
    objects.put(_links_key(report_id), json.dumps(keys).encode())
    return "[]", _links_key(report_id)


def delete_links(report_ids: Iterable[str]) -> None:
    """Remove the S3 link lists of replaced reports (inline ones went with their items)."""
    for report_id in report_ids:
        objects.delete(_links_key(report_id))


def finished_of(digests: Iterable[str], scanner_uuids: Iterable[str],
                mime_types: Iterable[str]) -> dict[str, list[Report]]:
    """The finished reports, links included, of many digests by any of the scanners: BatchGets only."""
    wanted = [(_pk(d), _sk(s, mime)) for d in digests for s in scanner_uuids for mime in mime_types]
    found: dict[str, list[Report]] = {}
    for report in map(_report, metadata.batch_get(wanted)):
        if report.status == SUCCESS:
            found.setdefault(report.digest, []).append(report)
    return found


def record_keys(report: Report) -> list[tuple[str, str]]:
    """The keys of the shared vulnerability records the report links to."""
    if report.links_object:
        return [(pk, sk) for pk, sk in json.loads(objects.get(report.links_object))]
    return list(report.vuln_keys)


def records_at(record_keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], metadata.Item]:
    """The shared vulnerability records with these keys (absent ones are missing), by key: BatchGets."""
    return {(r["PK"], r["SK"]): r for r in metadata.batch_get(record_keys)}


def vulnerabilities(report: Report) -> list[dict[str, Any]]:
    """The report's vulnerability items, rebuilt from the shared records (the read path of 2.5)."""
    records = metadata.batch_get(record_keys(report))
    return sorted((vulnerability_item(r, report.digest) for r in records),
                  key=lambda v: (v["id"], v["package"], v["version"]))


def vulnerability_item(record: metadata.Item, digest: str) -> dict[str, Any]:
    cvss = {"score_v3": _number(record.get("cvss_score_v3")), "score_v2": _number(record.get("cvss_score_v2")),
            "vector_v3": record.get("cvss_vector_v3", ""), "vector_v2": record.get("cvss_vector_v2", "")}
    return {"id": record["cve_id"], "package": record["package"], "version": record["package_version"],
            "fix_version": record.get("fixed_version", ""), "severity": record["severity"],
            "description": record.get("description", ""),
            "links": [u for u in record.get("urls", "").split("|") if u], "artifact_digests": [digest],
            "preferred_cvss": cvss, "cwe_ids": [c for c in record.get("cwe_ids", "").split(",") if c],
            "vendor_attributes": json.loads(record.get("vendor_attributes") or "{}")}


def _number(value: Any) -> float | None:
    return None if value is None else float(value)
