"""What an export selects (ScanDataExportRequest), validated as Harbor validates it (semantics 1.2)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from chalicelib.errors import Invalid
from chalicelib.export.patterns import BadPattern, compile_pattern

# Columns beyond Harbor's ten, added only when asked for ("extra_columns"), so the default file stays
# byte-compatible with Harbor's.
EXTRA_COLUMNS = {"project": "Project", "tags": "Tags", "cvss_v3_score": "CVSS3 Score",
                 "cvss_v3_vector": "CVSS3 Vector", "description": "Description"}


class InvalidCriteria(Invalid):
    pass


@dataclass(frozen=True)
class Criteria:
    project_ids: list[int]
    repositories: str = ""
    tags: str = ""
    labels: list[int] = field(default_factory=list)
    cve_ids: str = ""
    extra_columns: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Criteria:
        return cls(**raw)


def _ids(body: dict[str, Any], name: str) -> list[int]:
    value = body.get(name) or []
    if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise InvalidCriteria(f"{name} must be a list of integer ids")
    return list(dict.fromkeys(value))


def _pattern(body: dict[str, Any], name: str, alias: str = "") -> str:
    value = body.get(name) or (body.get(alias) if alias else "") or ""
    if not isinstance(value, str):
        raise InvalidCriteria(f"{name} must be a string")
    if " " in value:
        raise InvalidCriteria(f"invalid criteria value, please remove additional spaces for input: {value[:200]}")
    try:
        compile_pattern(value)
    except BadPattern as error:
        raise InvalidCriteria(str(error)) from error
    return value


def parse(body: dict[str, Any]) -> tuple[Criteria, str]:
    """The criteria and the job name of a POST /export/cve body; InvalidCriteria says what is wrong."""
    job_name = body.get("job_name") or ""
    if not isinstance(job_name, str) or len(job_name) > 256:
        raise InvalidCriteria("job_name must be a string of at most 256 characters")
    extra = body.get("extra_columns") or []
    if not isinstance(extra, list) or any(c not in EXTRA_COLUMNS for c in extra):
        raise InvalidCriteria(f"extra_columns may list {', '.join(EXTRA_COLUMNS)}")
    return Criteria(_ids(body, "projects"), _pattern(body, "repositories"), _pattern(body, "tags"),
                    _ids(body, "labels"),
                    # harborapi sends its field name, cve_ids, where Harbor reads cveIds: accept both.
                    _pattern(body, "cveIds", "cve_ids"), list(dict.fromkeys(extra))), job_name
