"""Scan reports (semantics-2.6.md 2.5): kept by chalicelib/store/scan_reports.py, whose records and
transitions this module passes on, with the rules that read across reports."""

from __future__ import annotations

from collections.abc import Iterable

from chalicelib.scan.severity import REPORT_TYPES
from chalicelib.store import scan_reports as store
from chalicelib.store.scan_reports import (
    ACTIVE,
    ERROR,
    EXPIRED_MESSAGE,
    PENDING,
    RUNNING,
    STOPPED,
    SUCCESS,
    Report,
    ScanConflict,
    claim,
    complete,
    delete_links,
    fail,
    place,
    record_keys,
    records_at,
    reports_for,
    reports_of,
    stop,
    vulnerabilities,
    vulnerability_item,
)

__all__ = [
    "ACTIVE",
    "ERROR",
    "EXPIRED_MESSAGE",
    "PENDING",
    "RUNNING",
    "STOPPED",
    "SUCCESS",
    "Report",
    "ScanConflict",
    "claim",
    "complete",
    "delete_links",
    "fail",
    "place",
    "record_keys",
    "records_at",
    "reports_for",
    "reports_of",
    "stop",
    "vulnerabilities",
    "vulnerability_item",
]


def merged_status(statuses: list[str]) -> str:
    """The status of several reports seen as one: the least finished wins (Harbor's MergeScanStatus)."""
    return next((s for s in (RUNNING, PENDING, ERROR, STOPPED) if s in statuses), SUCCESS)


def finished_of(digests: Iterable[str], scanner_uuids: Iterable[str]) -> dict[str, list[Report]]:
    """The finished reports of these artifacts by any of these scanners, of every report type."""
    return store.finished_of(digests, scanner_uuids, REPORT_TYPES)
