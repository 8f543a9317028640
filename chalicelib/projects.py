"""Projects: the unit of ownership and access. Harbor's project API and members build on this record.

Item: PK=PROJECT#<name>, SK=PROJECT, plus PK=PROJECTID#<id>, SK=PROJECT pointing back to the name
(Harbor addresses projects by id or name). Members will live beside it as SK=MEMBER#<kind>#<id>.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from chalicelib import clock
from chalicelib.store import metadata

_PROJECT_NAME = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*$")


class ProjectExists(Exception):
    pass


@dataclass(frozen=True)
class Project:
    project_id: int
    name: str
    public: bool
    owner_id: int
    owner_name: str
    creation_time: str
    metadata: dict[str, str] = field(default_factory=dict)


def valid_project_name(name: str) -> bool:
    return 1 <= len(name) <= 255 and bool(_PROJECT_NAME.match(name))


def _project(item: metadata.Item) -> Project:
    return Project(int(item["project_id"]), item["name"], item["metadata"].get("public") == "true",
                   int(item["owner_id"]), item["owner_name"], item["creation_time"], dict(item["metadata"]))


def get_project(name: str) -> Project | None:
    item = metadata.get(f"PROJECT#{name}", "PROJECT")
    return _project(item) if item else None


def create_project(name: str, *, owner_id: int, owner_name: str, public: bool) -> Project:
    """Create a project; ProjectExists when the name is taken. Harbor keeps `public` as metadata."""
    project_id = metadata.next_id("project")
    now = clock.iso()
    meta = {"public": "true" if public else "false"}
    try:
        metadata.transact([
            metadata.put_op({"PK": f"PROJECT#{name}", "SK": "PROJECT", "project_id": project_id,
                             "name": name, "owner_id": owner_id, "owner_name": owner_name,
                             "creation_time": now, "update_time": now, "metadata": meta}, if_absent=True),
            metadata.put_op({"PK": f"PROJECTID#{project_id}", "SK": "PROJECT", "name": name}, if_absent=True),
        ])
    except metadata.ConditionFailed as error:
        raise ProjectExists(name) from error
    return Project(project_id, name, public, owner_id, owner_name, now, meta)


def ensure_project(name: str, *, owner_id: int, owner_name: str, public: bool) -> Project:
    existing = get_project(name)
    if existing:
        return existing
    try:
        return create_project(name, owner_id=owner_id, owner_name=owner_name, public=public)
    except ProjectExists:  # created concurrently
        return get_project(name)  # type: ignore[return-value]
