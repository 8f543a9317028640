"""Projects and their members: the unit of ownership and access.

Items (docs/data-model.md): the project at PK=PROJECTS, SK=<name> (one partition, so the project
list pages with a Query), a pointer PK=PROJECTID#<id> (store/named.py); each member at PK=PROJECT#<id>,
SK=MEMBER#<user_id> and, for "my projects", PK=MEMBERSHIP#<user_id>, SK=<project id>.
Everything scoped to a project is keyed by its id, never its name: a project created later under a
deleted one's name inherits nothing of it. The creator becomes the first projectAdmin, as in Harbor.

A pull reads the project and the caller's role through the cache (store/cache.py): the project under
the scope `project:<name>`, roles under `members:<id>`; each write here invalidates its scope.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from dataclasses import dataclass, field

from chalicelib import clock
from chalicelib.errors import Conflict
from chalicelib.store import cache, metadata
from chalicelib.store.named import Named

PROJECTS = "PROJECTS"
_NAMED = Named("PROJECT")
PROJECT_ADMIN_ROLE = 1


class ProjectExists(Conflict):
    def __init__(self, name: str) -> None:
        super().__init__(f"conflict: The project named {name} already exists")


class MemberExists(Conflict):
    def __init__(self, username: str, project_name: str) -> None:
        super().__init__(f"conflict: {username} is already a member of {project_name}")


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
    registry_id: int = 0  # a proxy cache of that registry when set


@dataclass(frozen=True)
class Member:
    member_id: int
    project_id: int
    user_id: int
    username: str
    role_id: int


def _project(item: metadata.Item) -> Project:
    return Project(int(item["project_id"]), item["name"], bool(item["public"]), int(item["owner_id"]),
                   item["owner_name"], item["creation_time"], item.get("update_time", ""), dict(item["metadata"]),
                   int(item.get("registry_id", 0)))


def _project_scope(name: str) -> str:
    return f"project:{name}"


def _members_scope(project_id: int) -> str:
    return f"members:{project_id}"


def project_cache_key(name: str) -> cache.Key:
    return cache.Key(_project_scope(name), f"project:{name}")


def project_table_key(name: str) -> tuple[str, str]:
    """The item `get_project` reads when the cache does not answer (metadata.prefetched)."""
    return PROJECTS, name


def _read_project(name: str, consistent: bool = False) -> Project | None:
    item = _NAMED.get(PROJECTS, name, consistent)
    return _project(item) if item else None


def get_project(name: str) -> Project | None:
    return cache.read(project_cache_key(name), lambda consistent: _read_project(name, consistent),
                      lambda p: json.dumps(dataclasses.asdict(p)), lambda raw: Project(**json.loads(raw)))


def get_project_by_id(project_id: int) -> Project | None:
    found = _NAMED.locate(project_id)
    return get_project(found[1]) if found else None


def create_project(name: str, *, owner_id: int, owner_name: str, public: bool,
                   extra_metadata: dict[str, str] | None = None, registry_id: int = 0) -> Project:
    """Create a project with its creator as projectAdmin; ProjectExists when the name is taken."""
    project_id = metadata.next_id("project")
    now = clock.iso()
    meta = {**(extra_metadata or {}), "public": "true" if public else "false"}
    project = Project(project_id, name, public, owner_id, owner_name, now, now, meta, registry_id)
    try:
        metadata.transact([
            *_NAMED.create_ops(project_id, PROJECTS, name, {
                "project_id": project_id, "name": name, "public": public, "owner_id": owner_id,
                "owner_name": owner_name, "creation_time": now, "update_time": now, "metadata": meta,
                "registry_id": registry_id}),
            *_member_ops(project, metadata.next_id("member"), owner_id, owner_name, PROJECT_ADMIN_ROLE),
        ])
    except metadata.ConditionFailed as error:
        raise ProjectExists(name) from error
    return project


def update_project(project: Project, meta: dict[str, str]) -> None:
    """Merge metadata (Harbor keeps `public` as metadata "true"/"false")."""
    merged = {**project.metadata, **meta}
    metadata.set_fields(PROJECTS, project.name, {"metadata": merged, "public": merged.get("public") == "true",
                                                 "update_time": clock.iso()})
    cache.invalidate([_project_scope(project.name)])


def delete_metadata(project: Project, key: str) -> None:
    metadata.set_fields(PROJECTS, project.name, {"update_time": clock.iso()}, remove=[f"metadata.{key}"])
    cache.invalidate([_project_scope(project.name)])


def delete_project(project: Project) -> None:
    """Remove the project and its id pointer at once (its name is free again), then everything else
    in its partition: members, memberships, scanner binding (callers check it holds no repository)."""
    _NAMED.delete(project.project_id, PROJECTS, project.name)
    members = list_members(project)
    metadata.batch_delete([(f"MEMBERSHIP#{m.user_id}", _membership_sk(project.project_id)) for m in members]
                          + [(i["PK"], i["SK"]) for i in metadata.iterate(_partition(project.project_id),
                                                                          attributes=())])
    cache.invalidate([_project_scope(project.name), _members_scope(project.project_id)])


def remove_memberships(user_id: int) -> None:
    """A deleted user leaves every project it was a member of."""
    items, _ = metadata.query(f"MEMBERSHIP#{user_id}")
    metadata.batch_delete([(_partition(int(i["SK"])), f"MEMBER#{user_id}") for i in items]
                          + [(i["PK"], i["SK"]) for i in items])
    cache.invalidate(_members_scope(int(i["SK"])) for i in items)


def iter_projects(*, descending: bool = False) -> Iterator[Project]:
    """Every project in name order, streamed from one partition page by page."""
    return (_project(i) for i in metadata.iterate(PROJECTS, descending=descending))


@dataclass(frozen=True)
class Membership:
    project_id: int
    project_name: str
    role_id: int


def memberships(user_id: int) -> list[Membership]:
    """Every project the user is a member of, with its role there."""
    items, _ = metadata.query(f"MEMBERSHIP#{user_id}")
    return [Membership(int(i["SK"]), i["project_name"], int(i["role_id"])) for i in items]


def roles_by_name(user_id: int | None) -> dict[str, int]:
    """The user's role in each project it is a member of, by project name ({} for no user)."""
    return {m.project_name: m.role_id for m in memberships(user_id)} if user_id is not None else {}


def _partition(project_id: int) -> str:
    """The partition of everything scoped to one project (members, scanner binding)."""
    return f"PROJECT#{project_id}"


def project_partition(project: Project) -> str:
    return _partition(project.project_id)


def _membership_sk(project_id: int) -> str:
    return str(project_id)


# Members (users only; groups would add entity kind "g").
def _member_ops(project: Project, member_id: int, user_id: int, username: str, role_id: int) -> list[metadata.Write]:
    return [
        metadata.put_op({"PK": _partition(project.project_id), "SK": f"MEMBER#{user_id}", "member_id": member_id,
                         "user_id": user_id, "username": username, "role_id": role_id}, if_absent=True),
        metadata.put_op({"PK": f"MEMBERSHIP#{user_id}", "SK": _membership_sk(project.project_id),
                         "project_name": project.name, "role_id": role_id, "member_id": member_id}),
    ]


def _member(project_id: int, item: metadata.Item) -> Member:
    return Member(int(item["member_id"]), project_id, int(item["user_id"]), item["username"], int(item["role_id"]))


def role_of(project: Project, user_id: int) -> int | None:
    """The user's role in the project, None for a non-member (kept in the cache as 0). One read."""
    def read(consistent: bool) -> int:
        item = metadata.get(_partition(project.project_id), f"MEMBER#{user_id}", consistent)
        return int(item["role_id"]) if item else 0

    key = cache.Key(_members_scope(project.project_id), f"role:{project.project_id}:{user_id}")
    return cache.read(key, read, str, int) or None


def roles_in(user_id: int, selected: list[Project]) -> dict[int, int]:
    """The user's role in each of these projects where it is a member, by project id (one BatchGet)."""
    items = metadata.batch_get((_partition(p.project_id), f"MEMBER#{user_id}") for p in selected)
    return {int(i["PK"].split("#", 1)[1]): int(i["role_id"]) for i in items}


def add_member(project: Project, user_id: int, username: str, role_id: int) -> Member:
    member_id = metadata.next_id("member")
    try:
        metadata.transact(_member_ops(project, member_id, user_id, username, role_id))
    except metadata.ConditionFailed as error:
        raise MemberExists(username, project.name) from error
    cache.invalidate([_members_scope(project.project_id)])
    return Member(member_id, project.project_id, user_id, username, role_id)


def list_members(project: Project) -> list[Member]:
    items, _ = metadata.query(_partition(project.project_id), "MEMBER#")
    return [_member(project.project_id, i) for i in items]


def set_member_role(member: Member, role_id: int) -> None:
    metadata.transact([
        metadata.set_fields_op(_partition(member.project_id), f"MEMBER#{member.user_id}", {"role_id": role_id},
                               must_exist=True),
        metadata.set_fields_op(f"MEMBERSHIP#{member.user_id}", _membership_sk(member.project_id),
                               {"role_id": role_id}, must_exist=True),
    ])
    cache.invalidate([_members_scope(member.project_id)])


def remove_member(member: Member) -> None:
    metadata.transact([metadata.delete_op(_partition(member.project_id), f"MEMBER#{member.user_id}"),
                       metadata.delete_op(f"MEMBERSHIP#{member.user_id}", _membership_sk(member.project_id))])
    cache.invalidate([_members_scope(member.project_id)])
