"""/projects/{p}/members: users added to a project with a role (ids 1 projectAdmin, 2 developer,
3 guest, 4 maintainer, 5 limitedGuest)."""

from __future__ import annotations

from typing import Any

from chalicelib import projects
from chalicelib.auth import users
from chalicelib.auth.access import ROLE_NAMES
from chalicelib.errors import harbor_error
from chalicelib.handlers.harbor.context import ApiContext, respond
from chalicelib.handlers.harbor.paging import list_headers, page_of, window
from chalicelib.handlers.http import HttpResponse


def member_json(project: projects.Project, member: projects.Member) -> dict[str, Any]:
    return {"id": member.member_id, "project_id": project.project_id, "entity_name": member.username,
            "role_name": ROLE_NAMES[member.role_id], "role_id": member.role_id, "entity_id": member.user_id,
            "entity_type": "u"}


def _role(raw: Any) -> int:
    if not isinstance(raw, int) or isinstance(raw, bool) or raw not in ROLE_NAMES:
        raise harbor_error("BAD_REQUEST", f"invalid role id {raw!r}: use 1 (projectAdmin), 2 (developer), "
                                          "3 (guest), 4 (maintainer) or 5 (limitedGuest)")
    return raw


def _user(raw: Any) -> users.User:
    if not isinstance(raw, dict):
        raise harbor_error("BAD_REQUEST", "member_user with username or user_id is required (groups are not "
                                          "supported)")
    user = None
    if isinstance(raw.get("user_id"), int) and raw["user_id"] > 0:
        user = users.get_user_by_id(raw["user_id"])
    elif isinstance(raw.get("username"), str) and raw["username"]:
        user = users.get_user(raw["username"])
    else:
        raise harbor_error("BAD_REQUEST", "member_user needs a username or a user_id")
    if user is None:
        raise harbor_error("NOT_FOUND", f"user {raw.get('username') or raw.get('user_id')} not found")
    return user


def _member(project: projects.Project, member_id: str) -> projects.Member:
    found = next((m for m in projects.list_members(project) if str(m.member_id) == member_id), None)
    if found is None:
        raise harbor_error("NOT_FOUND", f"member {member_id[:20]} not found in project {project.name}")
    return found


def list_members(ctx: ApiContext, project_name_or_id: str) -> HttpResponse:
    project = ctx.project(project_name_or_id, ("member", "list"))
    page = page_of(ctx.request)
    name = (ctx.request.param("entityname") or "").lower()
    selected, total = window(projects.list_members(project), page, lambda m: name in m.username.lower())
    return respond(200, [member_json(project, m) for m in selected],
                   list_headers(ctx.request, f"/api/v2.0/projects/{project_name_or_id}/members", page, total))


def add_member(ctx: ApiContext, project_name_or_id: str) -> HttpResponse:
    project = ctx.project(project_name_or_id, ("member", "create"))
    body = ctx.body()
    if body.get("member_group"):
        raise harbor_error("BAD_REQUEST", "group members are not supported")
    role, user = _role(body.get("role_id")), _user(body.get("member_user"))
    member = projects.add_member(project, user.user_id, user.username, role)
    return respond(201, headers={"Location": f"/api/v2.0/projects/{project_name_or_id}/members/{member.member_id}"})


def get_member(ctx: ApiContext, project_name_or_id: str, mid: str) -> HttpResponse:
    project = ctx.project(project_name_or_id, ("member", "read"))
    return respond(200, member_json(project, _member(project, mid)))


def update_member(ctx: ApiContext, project_name_or_id: str, mid: str) -> HttpResponse:
    project = ctx.project(project_name_or_id, ("member", "update"))
    member = _member(project, mid)
    projects.set_member_role(member, _role(ctx.body().get("role_id")))
    return respond(200)


def delete_member(ctx: ApiContext, project_name_or_id: str, mid: str) -> HttpResponse:
    project = ctx.project(project_name_or_id, ("member", "delete"))
    projects.remove_member(_member(project, mid))
    return respond(200)


ROUTES = [
    ("GET", "/projects/{project_name_or_id}/members", list_members),
    ("POST", "/projects/{project_name_or_id}/members", add_member),
    ("GET", "/projects/{project_name_or_id}/members/{mid}", get_member),
    ("PUT", "/projects/{project_name_or_id}/members/{mid}", update_member),
    ("DELETE", "/projects/{project_name_or_id}/members/{mid}", delete_member),
]
