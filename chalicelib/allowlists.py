"""CVE allowlists: CVEs that a project's vulnerability prevention (prevent_vul) lets through.

One system allowlist and one per project (chalicelib/store/allowlists.py). A project uses the
system's list unless its metadata `reuse_sys_cve_allowlist` is "false" (absent means reuse, as in
Harbor's Project.ReuseSysCVEAllowlist). A list whose `expires_at` (unix seconds) has passed allows
nothing (Harbor's CVESet of an expired list is empty).
"""

from __future__ import annotations

from typing import Any

from chalicelib.errors import Invalid
from chalicelib.projects import Project
from chalicelib.store.allowlists import Allowlist, get, put

__all__ = ["Allowlist", "get", "put"]


# A list is one DynamoDB item (400 KB at most): these bounds keep it well inside, and are checked before
# anything is written (docs/limits.md).
MAX_ITEMS = 10_000
MAX_ID_CHARACTERS = 255
MAX_TOTAL_CHARACTERS = 300_000


class InvalidAllowlist(Invalid):
    pass


def parse(body: Any) -> tuple[tuple[str, ...], int | None]:
    """(CVE ids, expires_at) of a CVEAllowlist body; InvalidAllowlist for anything else (Harbor only
    refuses duplicates, not the id's format). Linear in the items."""
    if not isinstance(body, dict):
        raise InvalidAllowlist("the CVE allowlist must be an object")
    raw_items, expires_at = body.get("items") or [], body.get("expires_at")
    if not isinstance(raw_items, list):
        raise InvalidAllowlist("items must be a list of {cve_id}")
    if len(raw_items) > MAX_ITEMS:
        raise InvalidAllowlist(f"a CVE allowlist holds at most {MAX_ITEMS} items, not {len(raw_items)}")
    ids: dict[str, None] = {}  # in the order given
    for item in raw_items:
        cve_id = item.get("cve_id") if isinstance(item, dict) else None
        if not isinstance(cve_id, str) or not cve_id.strip() or len(cve_id) > MAX_ID_CHARACTERS:
            raise InvalidAllowlist("each item needs a cve_id")
        if cve_id.strip() in ids:
            raise InvalidAllowlist(f"duplicate CVE ID in allowlist: {cve_id.strip()}")
        ids[cve_id.strip()] = None
    if sum(map(len, ids)) > MAX_TOTAL_CHARACTERS:
        raise InvalidAllowlist(f"the CVE ids of an allowlist hold at most {MAX_TOTAL_CHARACTERS} characters in all")
    if expires_at is not None and (not isinstance(expires_at, int) or isinstance(expires_at, bool)
                                   or not 0 <= expires_at < 2**53):
        raise InvalidAllowlist("expires_at must be a number of seconds since the epoch, or null")
    return tuple(ids), expires_at


def effective(project: Project) -> Allowlist:
    """What prevent_vul honours in this project: the system's list or its own."""
    if project.metadata.get("reuse_sys_cve_allowlist", "true") != "false":
        return get(None)
    return get(project)


def to_json(allowlist: Allowlist) -> dict[str, Any]:
    return {"id": allowlist.project_id, "project_id": allowlist.project_id, "expires_at": allowlist.expires_at,
            "items": [{"cve_id": cve} for cve in allowlist.items], "creation_time": allowlist.creation_time,
            "update_time": allowlist.update_time}
