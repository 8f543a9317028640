"""Projects and their members: the unit of ownership and access.

Items (docs/data-model.md): the project at PK=PROJECTS, SK=<name> (one partition, so the project
list pages with a Query), a pointer PK=PROJECTID#<id>; each member at PK=PROJECT#<name>,
SK=MEMBER#<user_id> and, for "my projects", PK=MEMBERSHIP#<user_id>, SK=<name>.
The creator becomes the project's first projectAdmin, as in Harbor.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from chalicelib import clock
from chalicelib.store import keys, metadata

_PROJECT_NAME = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*$")
PROJECTS = "PROJECTS"
PROJECT_ADMIN_ROLE = 1


class ProjectExists(Exception):
    pass


class MemberExists(Exception):
    pass


@dataclass(frozen=True)
class Project:
    project_id: int
    name: str
    public: bool
    owner_id: int
    owner_name: str
    creation_time: str
    update_time: str = ""
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Member:
    member_id: int
    project_name: str
    user_id: int
    username: str
    role_id: int


def valid_project_name(name: str) -> bool:
    return 1 <= len(name) <= 255 and bool(_PROJECT_NAME.match(name))


def _project(item: metadata.Item) -> Project:
    return Project(int(item["project_id"]), item["name"], bool(item["public"]), int(item["owner_id"]),
                   item["owner_name"], item["creation_time"], item.get("update_time", ""), dict(item["metadata"]))


def get_project(name: str) -> Project | None:
    item = metadata.get(PROJECTS, name)
    return _project(item) if item else None


def get_project_by_id(project_id: int) -> Project | None:
    pointer = metadata.get(f"PROJECTID#{project_id}", "PROJECT")
    return get_project(pointer["name"]) if pointer else None


def create_project(name: str, *, owner_id: int, owner_name: str, public: bool,
                   extra_metadata: dict[str, str] | None = None) -> Project:
    """Create a project with its creator as projectAdmin; ProjectExists when the name is taken."""
    project_id = metadata.next_id("project")
    now = clock.iso()
    meta = {**(extra_metadata or {}), "public": "true" if public else "false"}
    project = Project(project_id, name, public, owner_id, owner_name, now, now, meta)
    try:
        metadata.transact([
            metadata.put_op({"PK": PROJECTS, "SK": name, "project_id": project_id, "name": name, "public": public,
                             "owner_id": owner_id, "owner_name": owner_name, "creation_time": now,
                             "update_time": now, "metadata": meta}, if_absent=True),
            metadata.put_op({"PK": f"PROJECTID#{project_id}", "SK": "PROJECT", "name": name}, if_absent=True),
            *_member_ops(name, metadata.next_id("member"), owner_id, owner_name, PROJECT_ADMIN_ROLE),
        ])
    except metadata.ConditionFailed as error:
        raise ProjectExists(name) from error
    return project


def ensure_project(name: str, *, owner_id: int, owner_name: str, public: bool) -> Project:
    existing = get_project(name)
    if existing:
        return existing
    try:
        return create_project(name, owner_id=owner_id, owner_name=owner_name, public=public)
    except ProjectExists:  # created concurrently
        return get_project(name)  # type: ignore[return-value]


def update_project(project: Project, meta: dict[str, str]) -> None:
    """Merge metadata (Harbor keeps `public` as metadata "true"/"false")."""
    merged = {**project.metadata, **meta}
    metadata.update(PROJECTS, project.name, "SET metadata = :m, #p = :p, update_time = :t",
                    {":m": merged, ":p": merged.get("public") == "true", ":t": clock.iso()},
                    names={"#p": "public"}, condition="attribute_exists(PK)")


def delete_metadata(project: Project, key: str) -> None:
    metadata.update(PROJECTS, project.name, "REMOVE metadata.#k SET update_time = :t", {":t": clock.iso()},
                    names={"#k": key}, condition="attribute_exists(PK)")


def repository_names(project_name: str, limit: int | None = None) -> list[str]:
    items, _ = metadata.query(keys.CATALOG, f"{project_name}/", limit=limit, projection="SK")
    return [i["SK"] for i in items]


def delete_project(project: Project) -> None:
    """Remove the project, its id pointer and every membership (callers check it is empty)."""
    members = list_members(project.name)
    operations = [metadata.delete_op(PROJECTS, project.name),
                  metadata.delete_op(f"PROJECTID#{project.project_id}", "PROJECT")]
    for member in members:
        operations += [metadata.delete_op(f"PROJECT#{project.name}", f"MEMBER#{member.user_id}"),
                       metadata.delete_op(f"MEMBERSHIP#{member.user_id}", project.name)]
    for start in range(0, len(operations), 100):
        metadata.transact(operations[start:start + 100])


def iter_projects(*, descending: bool = False) -> Iterator[Project]:
    """Every project in name order, streamed from one partition page by page."""
    return (_project(i) for i in metadata.iterate(PROJECTS, descending=descending))


def memberships(user_id: int) -> list[tuple[str, int]]:
    """(project name, role id) of every project the user is a member of."""
    items, _ = metadata.query(f"MEMBERSHIP#{user_id}")
    return [(i["SK"], int(i["role_id"])) for i in items]


# Members (users only; groups would add entity kind "g").
def _member_ops(project_name: str, member_id: int, user_id: int, username: str, role_id: int) -> list[dict[str, Any]]:
    return [
        metadata.put_op({"PK": f"PROJECT#{project_name}", "SK": f"MEMBER#{user_id}", "member_id": member_id,
                         "user_id": user_id, "username": username, "role_id": role_id}, if_absent=True),
        metadata.put_op({"PK": f"MEMBERSHIP#{user_id}", "SK": project_name, "role_id": role_id,
                         "member_id": member_id}),
    ]


def _member(project_name: str, item: metadata.Item) -> Member:
    return Member(int(item["member_id"]), project_name, int(item["user_id"]), item["username"], int(item["role_id"]))


def role_of(project_name: str, user_id: int) -> int | None:
    """The user's role in the project, None for a non-member. One read."""
    item = metadata.get(f"PROJECT#{project_name}", f"MEMBER#{user_id}")
    return int(item["role_id"]) if item else None


def roles_in(user_id: int, project_names: list[str]) -> dict[str, int]:
    """The user's role in each of these projects where it is a member (one BatchGet)."""
    items = metadata.batch_get((f"PROJECT#{name}", f"MEMBER#{user_id}") for name in project_names)
    return {i["PK"].split("#", 1)[1]: int(i["role_id"]) for i in items}


def add_member(project_name: str, user_id: int, username: str, role_id: int) -> Member:
    member_id = metadata.next_id("member")
    try:
        metadata.transact(_member_ops(project_name, member_id, user_id, username, role_id))
    except metadata.ConditionFailed as error:
        raise MemberExists(username) from error
    return Member(member_id, project_name, user_id, username, role_id)


def list_members(project_name: str) -> list[Member]:
    items, _ = metadata.query(f"PROJECT#{project_name}", "MEMBER#")
    return [_member(project_name, i) for i in items]


def set_member_role(member: Member, role_id: int) -> None:
    metadata.transact([
        metadata.update_op(f"PROJECT#{member.project_name}", f"MEMBER#{member.user_id}", "SET role_id = :r",
                           {":r": role_id}),
        metadata.update_op(f"MEMBERSHIP#{member.user_id}", member.project_name, "SET role_id = :r", {":r": role_id}),
    ])


def remove_member(member: Member) -> None:
    metadata.transact([metadata.delete_op(f"PROJECT#{member.project_name}", f"MEMBER#{member.user_id}"),
                       metadata.delete_op(f"MEMBERSHIP#{member.user_id}", member.project_name)])
