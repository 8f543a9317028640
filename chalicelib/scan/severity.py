"""Report MIME types and Harbor's severity scale (src/pkg/scan/vuln/severity.go)."""

from __future__ import annotations

from collections.abc import Iterable

NATIVE = "application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0"
GENERIC = "application/vnd.security.vulnerability.report; version=1.1"
REPORT_TYPES = (GENERIC, NATIVE)  # the default X-Accept-Vulnerabilities, in Harbor's order
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"

# Harbor's codes: None/Unknown 0, Negligible 1, Low 2, Medium 3, High 4, Critical 5.
_RANK = {"None": 0, "Unknown": 0, "Negligible": 1, "Low": 2, "Medium": 3, "High": 4, "Critical": 5}


def normalise(value: str | None) -> str:
    """ParseSeverityVersion3: title case; Negligible becomes None; anything unrecognised Unknown."""
    titled = (value or "").strip().title()
    if titled == "Negligible":
        return "None"
    return titled if titled in _RANK else "Unknown"


def rank(value: str) -> int:
    """Harbor's Severity.Code(): an unrecognised severity ranks above all (the safe side)."""
    return _RANK.get(value, 99)


def overall(severities: Iterable[str]) -> str:
    """The report's severity: the highest found; None when nothing was found."""
    found = list(severities)
    if not found:
        return "None"
    return max(found, key=lambda s: (_RANK[s], s != "None"))


def accepted_types(header: str | None) -> list[str]:
    """X-Accept-Vulnerabilities: the known types listed, in order; the default when absent; the native
    type when none of those listed is known (parseScanReportMimeTypes)."""
    if not header:
        return list(REPORT_TYPES)
    listed = [t.strip() for t in header.split(",")]
    return list(dict.fromkeys(t for t in listed if t in REPORT_TYPES)) or [NATIVE]
