"""Who may do what: the caller (Principal) and Harbor 2.6's RBAC matrix (semantics-2.6.md 9.1).

A permission is (resource, action). Project roles: projectAdmin=1, developer=2, guest=3,
maintainer=4, limitedGuest=5. A system admin holds every permission. Public projects give anyone
(anonymous included) the read permissions of PUBLIC.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from chalicelib.auth.tokens import Access
from chalicelib.projects import Project, role_of

Permission = tuple[str, str]

PROJECT_ADMIN, DEVELOPER, GUEST, MAINTAINER, LIMITED_GUEST = 1, 2, 3, 4, 5
ROLE_NAMES = {PROJECT_ADMIN: "projectAdmin", DEVELOPER: "developer", GUEST: "guest", MAINTAINER: "maintainer",
              LIMITED_GUEST: "limitedGuest"}


def _perms(resource: str, *actions: str) -> frozenset[Permission]:
    return frozenset((resource, action) for action in actions)


PUBLIC = (_perms("project", "read") | _perms("label", "read", "list") | _perms("repository", "list", "pull")
          | _perms("artifact", "read", "list") | _perms("tag", "list") | _perms("accessory", "list")
          | _perms("artifact-addition", "read") | _perms("scan", "read") | _perms("scanner", "read"))
_LIMITED_GUEST = PUBLIC | _perms("repository", "read") | _perms("metadata", "read", "list")
_GUEST = _LIMITED_GUEST | _perms("log", "list") | _perms("member", "read", "list") | _perms("robot", "read", "list")
_DEVELOPER = (_GUEST | _perms("repository", "push", "update") | _perms("tag", "create")
              | _perms("artifact-label", "create", "delete") | _perms("export-cve", "create", "read", "list")
              | _perms("artifact", "create"))
_MAINTAINER = (_DEVELOPER | _perms("artifact", "delete") | _perms("repository", "delete") | _perms("tag", "delete")
               | _perms("label", "create", "update", "delete") | _perms("scan", "create", "stop")
               | _perms("metadata", "update") | _perms("tag-retention", "read", "list", "create", "update", "delete")
               | _perms("immutable-tag", "read", "list", "create", "update", "delete"))
_PROJECT_ADMIN = (_MAINTAINER | _perms("member", "create", "update", "delete")
                  | _perms("robot", "create", "update", "delete") | _perms("project", "update", "delete")
                  | _perms("metadata", "create", "delete") | _perms("configuration", "read", "update")
                  | _perms("scanner", "create"))
ROLE_PERMISSIONS: dict[int, frozenset[Permission]] = {
    PROJECT_ADMIN: _PROJECT_ADMIN, MAINTAINER: _MAINTAINER, DEVELOPER: _DEVELOPER, GUEST: _GUEST,
    LIMITED_GUEST: _LIMITED_GUEST,
}
# Registry actions on a repository and the permission each needs; scanner-pull (held by the robots
# of scan jobs) lets a pull skip the project's pull policies, as in Harbor.
REGISTRY_ACTIONS: dict[str, Permission] = {
    "pull": ("repository", "pull"), "push": ("repository", "push"), "delete": ("repository", "delete"),
    "scanner-pull": ("repository", "scanner-pull")}
_ALL = frozenset({"pull", "push", "delete"})  # what "*" stands for
TOKEN_ACTION_ORDER = ("pull", "push", "delete", "scanner-pull", "*")


@dataclass(frozen=True)
class Principal:
    """The caller. `granted` is set when a bearer token authenticated it: the token is then the
    only authority, and nothing is read from the database to authorize the request."""

    username: str = ""
    user_id: int | None = None
    sysadmin: bool = False
    granted: tuple[Access, ...] | None = None
    # Credentials were presented but not accepted: Harbor then serves the request as anonymous,
    # and a 401 challenges for Basic credentials instead of a token.
    rejected_credentials: bool = False
    # A robot account: what it may do, per project id ("*": every project). Not a user.
    robot_namespaces: Mapping[int | str, frozenset[Permission]] | None = None

    @property
    def robot(self) -> bool:
        return self.robot_namespaces is not None

    @property
    def anonymous(self) -> bool:
        return not self.username


ANONYMOUS = Principal()
REJECTED = Principal(rejected_credentials=True)


def project_role(principal: Principal, project: Project) -> int | None:
    if principal.user_id is None:
        return None
    return role_of(project, principal.user_id)


def project_permissions(principal: Principal, project: Project, role: int | None = None) -> frozenset[Permission]:
    """Everything the principal may do in the project (reads the membership unless `role` is given)."""
    if principal.sysadmin:
        return _PROJECT_ADMIN
    if principal.robot_namespaces is not None:
        namespaces = principal.robot_namespaces
        held = namespaces.get(project.project_id, frozenset()) | namespaces.get("*", frozenset())
        return held | PUBLIC if project.public else held
    if role is None:
        role = project_role(principal, project)
    held = ROLE_PERMISSIONS.get(role, frozenset()) if role else frozenset()
    return held | PUBLIC if project.public else held


def project_actions(principal: Principal, project: Project) -> frozenset[str]:
    """Registry actions (pull, push, delete, scanner-pull, and * when the first three) held on the
    project's repositories."""
    permissions = project_permissions(principal, project)
    actions = {action for action, needed in REGISTRY_ACTIONS.items() if needed in permissions}
    return frozenset(actions | ({"*"} if actions >= _ALL else set()))


def allows(held: frozenset[str] | set[str], action: str) -> bool:
    return action in held or ("*" in held and action in _ALL)


def token_allows(principal: Principal, resource_type: str, name: str, action: str) -> bool:
    return any(a.type == resource_type and a.name == name and allows(set(a.actions), action)
               for a in principal.granted or ())
