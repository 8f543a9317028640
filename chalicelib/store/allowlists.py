"""CVE allowlists: one system allowlist at PK=CVEALLOWLIST, SK=SYSTEM, and one per project at
PK=PROJECT#<id>, SK=CVEALLOWLIST (in the project's partition, so it goes with the project)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from chalicelib import clock
from chalicelib.store import metadata
from chalicelib.store.projects import Project, project_partition

_SYSTEM = ("CVEALLOWLIST", "SYSTEM")
_PROJECT_SK = "CVEALLOWLIST"
ZERO_TIME = "0001-01-01T00:00:00.000Z"


@dataclass(frozen=True)
class Allowlist:
    project_id: int  # 0: the system's
    items: tuple[str, ...] = ()
    expires_at: int | None = None
    creation_time: str = ZERO_TIME
    update_time: str = ZERO_TIME

    def allowed(self) -> frozenset[str]:
        """The CVE ids it lets through now: none once it has expired."""
        if self.expires_at is not None and time.time() >= self.expires_at:
            return frozenset()
        return frozenset(self.items)


def _allowlist(project_id: int, item: metadata.Item | None) -> Allowlist:
    if item is None:
        return Allowlist(project_id)
    expires = item.get("expires_at")
    return Allowlist(project_id, tuple(item.get("items") or ()), None if expires is None else int(expires),
                     item["creation_time"], item["update_time"])


def _key(project: Project | None) -> tuple[str, str]:
    return (project_partition(project), _PROJECT_SK) if project else _SYSTEM


def get(project: Project | None = None) -> Allowlist:
    """The project's own list (the system's when `project` is None); empty when never set."""
    return _allowlist(project.project_id if project else 0, metadata.get(*_key(project)))


def put(project: Project | None, items: tuple[str, ...], expires_at: int | None) -> None:
    """Replace the list (Harbor's PUT overwrites it), keeping its creation time."""
    now = clock.iso()
    metadata.set_fields(*_key(project), {"items": list(items), "update_time": now, "expires_at": expires_at},
                        defaults={"creation_time": now}, must_exist=False)


