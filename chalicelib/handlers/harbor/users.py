"""/users: accounts, the current user, search, passwords and the admin flag (Harbor's db_auth mode)."""

from __future__ import annotations

import re
from typing import Any

from chalicelib import configurations, inputs
from chalicelib.auth import users
from chalicelib.auth.access import project_permissions
from chalicelib.auth.passwords import meeting_policy
from chalicelib.errors import DomainError, harbor_error
from chalicelib.handlers.harbor.context import ApiContext, bool_param, respond
from chalicelib.handlers.harbor.paging import list_headers, page_of, query_of, window
from chalicelib.handlers.http import HttpResponse

_USERNAME_FORBIDDEN = re.compile(r'[,~#$%"]')
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def user_json(user: users.User) -> dict[str, Any]:
    return {"user_id": user.user_id, "username": user.username, "email": user.email, "realname": user.realname,
            "comment": user.comment, "sysadmin_flag": user.sysadmin, "admin_role_in_auth": False,
            "creation_time": user.creation_time, "update_time": user.update_time}


def _check_profile(body: dict[str, Any], user_id: int | None) -> dict[str, str]:
    email, realname, comment = body.get("email", ""), body.get("realname", ""), body.get("comment", "")
    if not all(isinstance(v, str) for v in (email, realname, comment)):
        raise harbor_error("BAD_REQUEST", "email, realname and comment must be strings")
    if email and (len(email) > 255 or not _EMAIL.fullmatch(email)):
        raise harbor_error("BAD_REQUEST", f"invalid email: {email[:100]}")
    if len(realname) > 255 or len(comment) > 30_000:
        raise harbor_error("BAD_REQUEST", "realname or comment too long")
    if email and users.email_taken(email, user_id):
        raise DomainError("CONFLICT", f"conflict: email {email} is already used")
    return {"email": email, "realname": realname, "comment": comment}


def create_user(ctx: ApiContext) -> HttpResponse:
    ctx.require_sysadmin()  # self-registration is off
    body = ctx.body()
    username = body.get("username")
    if not isinstance(username, str) or not username or len(username) > 255 or _USERNAME_FORBIDDEN.search(username) \
            or username.strip() != username:
        raise harbor_error("BAD_REQUEST", "username is required, at most 255 characters, without ,~#$%\" or spaces "
                                          "at either end")
    password = meeting_policy(body.get("password"))
    profile = _check_profile(body, None)
    user = users.create_user(username, password, **profile)
    return respond(201, headers={"Location": f"/api/v2.0/users/{user.user_id}"})


def list_users(ctx: ApiContext) -> HttpResponse:
    ctx.require_sysadmin()
    page = page_of(ctx.request)
    conditions = query_of(ctx.request, ("username", "email"), integers=("user_id",))
    selected, total = window(users.iter_users(), page, lambda u: all(
        c.matches(getattr(u, key)) for key, c in conditions.items()))
    return respond(200, [user_json(u) for u in selected], list_headers(ctx.request, "/api/v2.0/users", page, total))


def search_users(ctx: ApiContext) -> HttpResponse:
    ctx.require_authenticated()
    page = page_of(ctx.request)
    name = (ctx.request.param("username") or "").lower()
    if not name:
        raise DomainError("UNPROCESSABLE_ENTITY", "username in query is required")
    selected, total = window(users.iter_users(), page, lambda u: name in u.username.lower())
    return respond(200, [{"user_id": u.user_id, "username": u.username} for u in selected],
                   list_headers(ctx.request, "/api/v2.0/users/search", page, total))


def current_user(ctx: ApiContext) -> HttpResponse:
    ctx.require_authenticated()
    user = users.get_user(ctx.principal.username) if not ctx.principal.robot else None
    if user is None:  # a robot is not a user
        raise harbor_error("UNAUTHORIZED", "robot accounts have no user profile")
    return respond(200, user_json(user))


# What a system admin may do outside projects, in Harbor's resource names (rbac/const.go).
_SYSTEM_RESOURCES = ("audit-log", "catalog", "configuration", "garbage-collection", "label", "ldap-user",
                     "project", "purge-audit", "registry", "replication", "replication-policy", "robot",
                     "scan-all", "scanner", "user")


def current_permissions(ctx: ApiContext) -> HttpResponse:
    """What the caller may do in a scope (`/project/<id>`, or the system when absent): the portal shows only
    the actions these allow, and the service layer still checks each call."""
    ctx.require_authenticated()
    scope = (ctx.request.param("scope") or "").rstrip("/")
    relative = bool_param(ctx.request, "relative") is True
    if scope.startswith("/project/"):
        project = ctx.project(scope.removeprefix("/project/"), ("project", "read"))
        held = sorted(project_permissions(ctx.principal, project))
    elif scope == "":
        scope = "/system"
        if ctx.principal.sysadmin:
            held = [(resource, action) for resource in _SYSTEM_RESOURCES for action in ("create", "read", "list",
                                                                                       "update", "delete")]
        else:
            held = [] if configurations.only_admins_create_projects() else [("project", "create")]
    else:
        raise harbor_error("BAD_REQUEST", f"unsupported scope {scope[:40]}")
    return respond(200, [{"resource": resource if relative else f"{scope}/{resource}", "action": action}
                         for resource, action in held])


def _target(ctx: ApiContext, user_id: str, *, self_allowed: bool) -> users.User:
    ctx.require_authenticated()
    is_self = str(ctx.principal.user_id) == user_id
    if not ctx.principal.sysadmin and not (self_allowed and is_self):
        raise harbor_error("FORBIDDEN")
    user = users.get_user_by_id(number) if (number := inputs.decimal(user_id)) is not None else None
    if user is None:
        raise harbor_error("NOT_FOUND", f"user {user_id[:20]} not found")
    return user


def get_user(ctx: ApiContext, user_id: str) -> HttpResponse:
    return respond(200, user_json(_target(ctx, user_id, self_allowed=True)))


def update_profile(ctx: ApiContext, user_id: str) -> HttpResponse:
    user = _target(ctx, user_id, self_allowed=True)
    users.update_profile(user, **_check_profile(ctx.body(), user.user_id))
    return respond(200)


def delete_user(ctx: ApiContext, user_id: str) -> HttpResponse:
    users.delete_user(_target(ctx, user_id, self_allowed=False), by_user_id=ctx.principal.user_id)
    return respond(200)


def change_password(ctx: ApiContext, user_id: str) -> HttpResponse:
    user = _target(ctx, user_id, self_allowed=True)
    body = ctx.body()
    users.change_password(user, body.get("new_password"), body.get("old_password"), by_user_id=ctx.principal.user_id)
    return respond(200)


def set_sysadmin(ctx: ApiContext, user_id: str) -> HttpResponse:
    user = _target(ctx, user_id, self_allowed=False)
    flag = ctx.body().get("sysadmin_flag")
    if not isinstance(flag, bool):
        raise harbor_error("BAD_REQUEST", "sysadmin_flag must be a boolean")
    if user.user_id == ctx.principal.user_id:
        raise harbor_error("FORBIDDEN", "you cannot change your own admin flag")
    users.set_sysadmin(user, flag)
    return respond(200)


ROUTES = [
    ("GET", "/users", list_users), ("POST", "/users", create_user),
    ("GET", "/users/current", current_user),
    ("GET", "/users/current/permissions", current_permissions), ("GET", "/users/search", search_users),
    ("GET", "/users/{user_id}", get_user), ("PUT", "/users/{user_id}", update_profile),
    ("DELETE", "/users/{user_id}", delete_user), ("PUT", "/users/{user_id}/password", change_password),
    ("PUT", "/users/{user_id}/sysadmin", set_sysadmin),
]
