"""The Map step: one batch of artifacts becomes one CSV part in S3 (semantics 1.7).

The batch's reports, links included, come in BatchGets (every digest x every registered scanner x
both report types), then its shared records in BatchGets of 100, each record read once: no Query
per artifact, no AWS call per row. As in Harbor (an inner join on the registration), reports of a
deleted scanner are left out.
"""

from __future__ import annotations

import json
from typing import Any

from chalicelib.export import selection
from chalicelib.export.criteria import EXTRA_COLUMNS, Criteria
from chalicelib.export.patterns import matches
from chalicelib.scan import reports, scanners
from chalicelib.store import objects

HEADER = ["Repository", "Artifact Digest", "CVE", "Package", "Current Version", "Fixed in version", "Severity",
          "CWE Ids", "Additional Data", "Scanner"]


class MissingRecord(Exception):
    """A report links to a vulnerability record that does not exist: the data is inconsistent."""


def part_key(execution_id: int, number: int) -> str:
    return f"exports/{execution_id}/parts/{number:06d}.csv"


def header(criteria: Criteria) -> list[str]:
    return HEADER + [EXTRA_COLUMNS[c] for c in criteria.extra_columns]


def csv_line(fields: list[str]) -> str:
    """Go's encoding/csv: quote a field holding a comma, quote, CR or LF, or starting with a space
    (or equal to a backslash and a dot); double inner quotes; LF line ends."""
    out = []
    for value in fields:
        if value and (value == "\\." or value[0].isspace() or any(c in value for c in ',"\r\n')):
            value = '"' + value.replace('"', '""') + '"'
        out.append(value)
    return ",".join(out) + "\n"


def jsonb_text(value: Any) -> str:
    """PostgreSQL's jsonb text form (what Harbor's SQL returns): ", " and ": " separators, object keys
    shorter first, then in byte order."""
    if isinstance(value, dict):
        ordered = sorted(value, key=lambda k: (len(k.encode()), k.encode()))
        return "{" + ", ".join(f"{json.dumps(k, ensure_ascii=False)}: {jsonb_text(value[k])}" for k in ordered) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(jsonb_text(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def _number(value: Any) -> str:
    return "" if value is None else format(float(value), "g")


def rows_of(batch: list[selection.Selected], criteria: Criteria) -> list[list[str]]:
    """The distinct rows of a batch, sorted by (repository, digest, CVE, package, ...)."""
    names = {r.uuid: r.name for r in scanners.list_all()}
    finished = reports.finished_of((item.digest for item in batch), names)
    links: list[tuple[selection.Selected, str, tuple[str, str]]] = []
    for item in batch:
        for report in finished.get(item.digest, []):
            links += [(item, names[report.scanner_uuid], key) for key in reports.record_keys(report)]
    found = reports.records_at(key for _, _, key in links)
    rows: set[tuple[str, ...]] = set()
    for item, scanner_name, key in links:
        record = found.get(key)
        if record is None:
            raise MissingRecord(f"{item.repository}@{item.digest}: a report links to the vulnerability record "
                                f"{key[0]} {key[1]}, which does not exist")
        if criteria.cve_ids and not matches(criteria.cve_ids, record["cve_id"]):
            continue
        attributes = json.loads(record["vendor_attributes"]) if record.get("vendor_attributes") else None
        row = [item.repository, item.digest, record["cve_id"], record["package"], record["package_version"],
               record.get("fixed_version", ""), record["severity"], record.get("cwe_ids", ""),
               jsonb_text(attributes) if attributes else "", scanner_name]
        extra = {"project": item.project, "tags": ",".join(item.tags),
                 "cvss_v3_score": _number(record.get("cvss_score_v3")),
                 "cvss_v3_vector": record.get("cvss_vector_v3", ""), "description": record.get("description", "")}
        rows.add(tuple(row + [extra[c] for c in criteria.extra_columns]))
    return [list(r) for r in sorted(rows)]


def write_part(execution_id: int, number: int, criteria: Criteria) -> int:
    """The batch's rows as CSV in S3 (no header); returns how many rows."""
    rows = rows_of(selection.read_batch(execution_id, number), criteria)
    objects.put(part_key(execution_id, number), "".join(csv_line(r) for r in rows).encode(),
                meta={"rows": str(len(rows))})
    return len(rows)
