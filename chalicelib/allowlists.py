"""CVE allowlists: CVEs that a project's vulnerability prevention (prevent_vul) lets through.

One system allowlist at PK=CVEALLOWLIST, SK=SYSTEM, and one per project at PK=PROJECT#<id>,
SK=CVEALLOWLIST (in the project's partition, so it goes with the project). A project uses the
system's list unless its metadata `reuse_sys_cve_allowlist` is "false" (absent means reuse, as in
Harbor's Project.ReuseSysCVEAllowlist). A list whose `expires_at` (unix seconds) has passed allows
nothing (Harbor's CVESet of an expired list is empty).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from chalicelib import clock
from chalicelib.projects import Project, project_partition
from chalicelib.store import metadata

_SYSTEM = ("CVEALLOWLIST", "SYSTEM")
_PROJECT_SK = "CVEALLOWLIST"
ZERO_TIME = "0001-01-01T00:00:00.000Z"


class InvalidAllowlist(ValueError):
    pass


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


def parse(body: Any) -> tuple[tuple[str, ...], int | None]:
    """(CVE ids, expires_at) of a CVEAllowlist body; InvalidAllowlist for anything else (Harbor only
    refuses duplicates, not the id's format)."""
    if not isinstance(body, dict):
        raise InvalidAllowlist("the CVE allowlist must be an object")
    raw_items, expires_at = body.get("items") or [], body.get("expires_at")
    if not isinstance(raw_items, list):
        raise InvalidAllowlist("items must be a list of {cve_id}")
    ids: list[str] = []
    for item in raw_items:
        cve_id = item.get("cve_id") if isinstance(item, dict) else None
        if not isinstance(cve_id, str) or not cve_id.strip() or len(cve_id) > 255:
            raise InvalidAllowlist("each item needs a cve_id")
        if cve_id.strip() in ids:
            raise InvalidAllowlist(f"duplicate CVE ID in allowlist: {cve_id.strip()}")
        ids.append(cve_id.strip())
    if expires_at is not None and (not isinstance(expires_at, int) or isinstance(expires_at, bool)
                                   or not 0 <= expires_at < 2**53):
        raise InvalidAllowlist("expires_at must be a number of seconds since the epoch, or null")
    return tuple(ids), expires_at


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
    pk, sk = _key(project)
    now = clock.iso()
    expression = "SET #i = :items, update_time = :now, creation_time = if_not_exists(creation_time, :now)"
    values: dict[str, Any] = {":items": list(items), ":now": now}
    if expires_at is None:
        expression += " REMOVE expires_at"
    else:
        expression += ", expires_at = :expires"
        values[":expires"] = expires_at
    metadata.update(pk, sk, expression, values, names={"#i": "items"})


def effective(project: Project) -> Allowlist:
    """What prevent_vul honours in this project: the system's list or its own."""
    if project.metadata.get("reuse_sys_cve_allowlist", "true") != "false":
        return get(None)
    return get(project)


def to_json(allowlist: Allowlist) -> dict[str, Any]:
    return {"id": allowlist.project_id, "project_id": allowlist.project_id, "expires_at": allowlist.expires_at,
            "items": [{"cve_id": cve} for cve in allowlist.items], "creation_time": allowlist.creation_time,
            "update_time": allowlist.update_time}
