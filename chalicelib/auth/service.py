"""Authentication of /v2/ and /service/token requests, and authorization of registry actions."""

from __future__ import annotations

import base64
import binascii

from chalicelib import configurations
from chalicelib.auth import robots, tokens, users
from chalicelib.auth.access import (
    ANONYMOUS,
    REJECTED,
    TOKEN_ACTION_ORDER,
    Principal,
    allows,
    project_actions,
    token_allows,
)
from chalicelib.errors import DomainError, Unauthorized
from chalicelib.projects import Project, get_project
from chalicelib.registry.names import project_of, validate_name


def reads_configuration(authorization: str | None) -> bool:
    """Whether authenticating this header reads the configuration: a Basic login (the robot prefix)."""
    return (authorization or "").partition(" ")[0].lower() == "basic"


def authenticate(authorization: str | None) -> Principal:
    """The caller named by an Authorization header. As in Harbor, wrong Basic credentials make the
    caller anonymous (a public pull still works; anything else then answers 401)."""
    if not authorization:
        return ANONYMOUS
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() == "bearer":
        try:
            subject, granted = tokens.verify(credentials.strip())
        except tokens.InvalidToken as error:
            raise Unauthorized("invalid or expired token", basic=True) from error
        return Principal(username=subject, granted=tuple(granted))
    if scheme.lower() == "basic":
        return _basic(credentials.strip())
    return REJECTED


def _basic(credentials: str) -> Principal:
    try:
        username, _, password = base64.b64decode(credentials, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return REJECTED
    if username.startswith(configurations.robot_name_prefix()):
        robot = robots.check_credentials(username, password)
        return Principal(username=robot.name, robot_namespaces=robot.namespaces()) if robot else REJECTED
    user = users.check_credentials(username, password) if username else None
    if user is None:
        return REJECTED
    return Principal(username=user.username, user_id=user.user_id, sysadmin=user.sysadmin)


def require_login(principal: Principal) -> None:
    """`GET /v2/` answers only to an authenticated caller (that is how `docker login` checks)."""
    if principal.anonymous:
        raise Unauthorized(basic=principal.rejected_credentials)


def _sent_credentials(principal: Principal) -> bool:
    """Whether the request carried an Authorization header (Harbor then challenges for Basic)."""
    return not principal.anonymous or principal.rejected_credentials or principal.granted is not None


def repository_scope(name: str, action: str) -> str:
    return f"repository:{name}:{'pull,push' if action == 'push' else action}"


def denied(principal: Principal, name: str, action: str, *scopes: str,
           bearer: bool = False) -> Unauthorized:
    """Harbor's refusal on /v2/ (v2auth): 401 for every caller, its message, and a challenge: Basic when
    credentials were sent (unless `bearer`), else Bearer with the scopes that would do."""
    return Unauthorized(f"unauthorized to access repository: {name}, action: {action}",
                        scope=" ".join(scopes or (repository_scope(name, action),)),
                        basic=_sent_credentials(principal) and not bearer)


def require_repository(principal: Principal, name: str, action: str) -> Project | None:
    """Raise unless the principal may perform `action` (pull, push, delete) on repository `name`.
    Returns the project when deciding needed to read it (a token decides alone: None)."""
    if principal.granted is not None:
        if token_allows(principal, "repository", name, action):
            return None
        # Denied: this path may read the project, to tell a missing project from missing rights.
        require_project(name)
        raise denied(principal, name, action)
    if principal.anonymous:
        project = get_project(project_of(name))  # public projects answer anonymous pulls
        if project is None or not allows(project_actions(principal, project), action):
            raise denied(principal, name, action)
        return project
    project = require_project(name)
    if not allows(project_actions(principal, project), action):
        raise denied(principal, name, action)
    return project


def holds(principal: Principal, project: Project, name: str, action: str) -> bool:
    """Whether the caller holds `action` on repository `name` (by its token, else by its roles)."""
    if principal.granted is not None:
        return token_allows(principal, "repository", name, action)
    return allows(project_actions(principal, project), action)


def require_catalog(principal: Principal) -> None:
    """System admins only; Harbor challenges Basic on the catalog, whoever asks."""
    allowed = token_allows(principal, "registry", "catalog", "*") if principal.granted is not None \
        else principal.sysadmin
    if not allowed:
        raise Unauthorized("unauthorized to list catalog", basic=True)


def require_project(name: str) -> Project:
    """The project of repository `name`; NAME_UNKNOWN when there is none."""
    project = get_project(project_of(name))
    if project is None:
        raise DomainError("NAME_UNKNOWN", f"project {project_of(name)} not found; create it first",
                            detail={"name": name})
    return project


def grant(principal: Principal, scopes: list[str]) -> list[tokens.Access]:
    """What a token carries, as Harbor: for a repository, every action the caller holds on its
    project (`*` when pull, push and delete all are); for the catalog, `*` for a system admin."""
    granted: list[tokens.Access] = []
    projects: dict[str, Project | None] = {}
    for scope in scopes:
        parts = scope.split(":")
        if len(parts) != 3:
            continue
        resource_type, name, requested = parts
        if resource_type == "registry" and name == "catalog":
            held: frozenset[str] = frozenset({"*"}) if principal.sysadmin and "*" in requested else frozenset()
        elif resource_type == "repository":
            try:
                validate_name(name)
            except DomainError:
                continue
            project_name = project_of(name)
            if project_name not in projects:
                projects[project_name] = get_project(project_name)
            project = projects[project_name]
            held = project_actions(principal, project) if project else frozenset()
        else:
            continue
        actions = tuple(a for a in TOKEN_ACTION_ORDER if a in held)
        granted.append(tokens.Access(resource_type, name, actions))
    return granted


def token_scopes(raw_scopes: list[str]) -> list[str]:
    """`scope` may be repeated and each may hold several space-separated scopes."""
    return [s for raw in raw_scopes for s in raw.split(" ") if s]
