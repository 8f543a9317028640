"""Projects and their members: the unit of ownership and access. The rules live here; the items and
their keys in chalicelib/store/projects.py, whose records and operations this module passes on."""

from __future__ import annotations

import re

from chalicelib import configurations, events
from chalicelib.errors import DomainError, harbor_error
from chalicelib.store.projects import (
    PROJECT_ADMIN_ROLE,
    Member,
    MemberExists,
    Membership,
    Project,
    ProjectExists,
    add_member,
    create_project,
    delete_metadata,
    delete_project,
    get_project,
    get_project_by_id,
    iter_projects,
    list_members,
    memberships,
    project_partition,
    remove_member,
    remove_memberships,
    role_of,
    roles_by_name,
    roles_in,
    set_member_role,
    update_project,
)
from chalicelib.store.repositories import repository_names

__all__ = [
    "PROJECT_ADMIN_ROLE",
    "Member",
    "MemberExists",
    "Membership",
    "Project",
    "ProjectExists",
    "add_member",
    "create_project",
    "delete_metadata",
    "delete_project",
    "get_project",
    "get_project_by_id",
    "iter_projects",
    "list_members",
    "memberships",
    "project_partition",
    "remove_member",
    "remove_memberships",
    "repository_names",
    "role_of",
    "roles_by_name",
    "roles_in",
    "set_member_role",
    "update_project",
]

_PROJECT_NAME = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*")


def valid_project_name(name: str) -> bool:
    return 1 <= len(name) <= 255 and bool(_PROJECT_NAME.fullmatch(name))


def create(name: str, *, owner_id: int, owner_name: str, public: bool, extra_metadata: dict[str, str],
           by_sysadmin: bool, registry_id: int = 0) -> Project:
    """A new project with its creator as projectAdmin; ProjectExists when the name is taken, FORBIDDEN
    when only system admins may create projects (project_creation_restriction) or when a non-admin asks
    for a proxy cache (`registry_id`, checked to exist by the caller)."""
    if not by_sysadmin and registry_id:
        raise DomainError("FORBIDDEN", "Only system admin can create proxy cache project")
    if not by_sysadmin and configurations.only_admins_create_projects():
        raise harbor_error("FORBIDDEN", "Only system admin can create project")
    project = create_project(name, owner_id=owner_id, owner_name=owner_name, public=public,
                             extra_metadata=extra_metadata, registry_id=registry_id)
    events.publish(events.ProjectCreated(project, owner_name))
    return project


def deletable(project: Project) -> tuple[bool, str]:
    """Whether the project may be deleted, and why not: Harbor refuses while it holds repositories."""
    if repository_names(project.name, limit=1):
        return False, f"the project {project.name} contains repositories: delete them first"
    return True, ""


def delete(project: Project, username: str) -> None:
    """Delete an empty project; what belonged to it goes with it (the subscribers of ProjectDeleted)."""
    ok, message = deletable(project)
    if not ok:
        raise DomainError("PRECONDITION", f"precondition failed: {message}")
    delete_project(project)
    events.publish(events.ProjectDeleted(project, username))


def ensure_project(name: str, *, owner_id: int, owner_name: str, public: bool) -> Project:
    existing = get_project(name)
    if existing:
        return existing
    try:
        return create_project(name, owner_id=owner_id, owner_name=owner_name, public=public)
    except ProjectExists:  # created concurrently
        return get_project(name)  # type: ignore[return-value]
