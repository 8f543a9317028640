"""Who may do what on a project's repositories (Harbor's RBAC matrix grows here)."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.auth.tokens import Access
from chalicelib.projects import Project

ALL_ACTIONS = frozenset({"pull", "push", "delete", "*"})


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

    @property
    def anonymous(self) -> bool:
        return not self.username


ANONYMOUS = Principal()
REJECTED = Principal(rejected_credentials=True)
TOKEN_ACTION_ORDER = ("pull", "push", "delete", "*")


def project_actions(principal: Principal, project: Project) -> frozenset[str]:
    """Repository actions the principal holds in the project."""
    if principal.sysadmin:
        return ALL_ACTIONS
    if principal.user_id is not None and principal.user_id == project.owner_id:
        return ALL_ACTIONS
    return frozenset({"pull"}) if project.public else frozenset()


def allows(held: frozenset[str] | set[str], action: str) -> bool:
    return action in held or "*" in held


def token_allows(principal: Principal, resource_type: str, name: str, action: str) -> bool:
    return any(a.type == resource_type and a.name == name and allows(set(a.actions), action)
               for a in principal.granted or ())
