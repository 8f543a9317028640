"""/robots: system and project robot accounts; the secret is shown once, at creation or refresh."""

from __future__ import annotations

import re
from typing import Any

from chalicelib import configurations, inputs, projects
from chalicelib.auth import robots
from chalicelib.auth.access import project_permissions
from chalicelib.auth.passwords import meeting_policy
from chalicelib.errors import harbor_error
from chalicelib.handlers.harbor.context import ApiContext, boolean_field, respond
from chalicelib.handlers.harbor.paging import list_headers, page_of, window
from chalicelib.handlers.http import HttpResponse

_NAME = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*")


def robot_json(robot: robots.Robot) -> dict[str, Any]:
    return {"id": robot.robot_id, "name": robot.name, "description": robot.description, "level": robot.level,
            "duration": robot.duration, "editable": True, "disable": robot.disabled, "expires_at": robot.expires_at,
            "permissions": robot.permissions, "creation_time": robot.creation_time,
            "update_time": robot.update_time}


def _duration(raw: Any) -> int:
    if raw is None or raw == 0:
        return configurations.robot_token_duration()
    if not isinstance(raw, int) or isinstance(raw, bool) or raw < robots.NEVER:
        raise harbor_error("BAD_REQUEST", "duration is a number of days, or -1 for never")
    return raw


def _permissions(raw: Any, level: str) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The permissions in Harbor's shape, and the id of each project they name."""
    if not isinstance(raw, list) or not raw:
        raise harbor_error("BAD_REQUEST", "permissions are required")
    checked, project_ids = [], {}
    for permission in raw:
        if not isinstance(permission, dict) or permission.get("kind") != "project":
            raise harbor_error("BAD_REQUEST", 'each permission needs kind "project"')
        namespace, access = permission.get("namespace"), permission.get("access")
        if not isinstance(namespace, str) or not namespace or (namespace == "*" and level == "project"):
            raise harbor_error("BAD_REQUEST", "each permission needs the namespace of a project")
        if not isinstance(access, list) or not all(
                isinstance(a, dict) and isinstance(a.get("resource"), str) and isinstance(a.get("action"), str)
                for a in access):
            raise harbor_error("BAD_REQUEST", "access must be a list of {resource, action}")
        if namespace != "*":
            project = projects.get_project(namespace)
            if project is None:
                raise harbor_error("NOT_FOUND", f"project {namespace[:100]} not found")
            project_ids[namespace] = project.project_id
        checked.append({"kind": "project", "namespace": namespace, "access": [
            {"resource": a["resource"], "action": a["action"], "effect": a.get("effect", "allow")} for a in access]})
    if level == "project" and len(checked) != 1:
        raise harbor_error("BAD_REQUEST", "a project robot has the permissions of exactly one project")
    return checked, project_ids


def _require_manage(ctx: ApiContext, robot_level: str, project_ids: dict[str, int], action: str) -> None:
    """System robots are the admins'; a project robot is managed with robot:<action> in its project."""
    ctx.require_authenticated()
    if robot_level == "system" or ctx.principal.sysadmin:
        ctx.require_sysadmin()
        return
    project = _project_of(project_ids)
    if project is None:
        raise harbor_error("NOT_FOUND", "project not found")
    ctx.require(project, ("robot", action))


def _project_of(project_ids: dict[str, int]) -> projects.Project | None:
    """A project robot's project (by id: never a later project of the same name)."""
    return next((projects.get_project_by_id(i) for i in project_ids.values()), None)


def _visible(ctx: ApiContext, robot: robots.Robot) -> bool:
    if ctx.principal.sysadmin:
        return True
    if robot.level != "project":
        return False
    project = _project_of(robot.project_ids)
    return bool(project and ("robot", "list") in project_permissions(ctx.principal, project))


def create_robot(ctx: ApiContext) -> HttpResponse:
    body = ctx.body()
    level, name = body.get("level"), body.get("name")
    if level not in ("system", "project"):
        raise harbor_error("BAD_REQUEST", 'level must be "system" or "project"')
    if not isinstance(name, str) or len(name) > 255 or not _NAME.fullmatch(name):
        raise harbor_error("BAD_REQUEST", "robot name must be lower-case letters, digits and . _ - (not at the ends)")
    permissions, project_ids = _permissions(body.get("permissions"), level)
    _require_manage(ctx, level, project_ids, "create")
    scoped_name = name if level == "system" else f"{permissions[0]['namespace']}+{name}"
    full_name = f"{configurations.robot_name_prefix()}{scoped_name}"
    secret = robots.generate_secret()
    description = body.get("description", "")
    if not isinstance(description, str):
        raise harbor_error("BAD_REQUEST", "description must be a string")
    robot = robots.create_robot(full_name, description, level, _duration(body.get("duration")),
                                boolean_field(body, "disable", False), permissions, project_ids, secret)
    return respond(201, {"id": robot.robot_id, "name": robot.name, "secret": secret,
                         "creation_time": robot.creation_time, "expires_at": robot.expires_at},
                   {"Location": f"/api/v2.0/robots/{robot.robot_id}"})


def list_robots(ctx: ApiContext) -> HttpResponse:
    ctx.require_authenticated()
    page = page_of(ctx.request)
    selected, total = window(robots.iter_robots(), page, lambda r: _visible(ctx, r))
    return respond(200, [robot_json(r) for r in selected], list_headers(ctx.request, "/api/v2.0/robots", page, total))


def _robot(ctx: ApiContext, robot_id: str, action: str) -> robots.Robot:
    ctx.require_authenticated()
    robot = robots.get_robot_by_id(number) if (number := inputs.decimal(robot_id)) is not None else None
    if robot is None or not _visible(ctx, robot):
        raise harbor_error("NOT_FOUND", f"robot {robot_id[:20]} not found")
    _require_manage(ctx, robot.level, robot.project_ids, action)
    return robot


def get_robot(ctx: ApiContext, robot_id: str) -> HttpResponse:
    return respond(200, robot_json(_robot(ctx, robot_id, "read")))


def update_robot(ctx: ApiContext, robot_id: str) -> HttpResponse:
    robot = _robot(ctx, robot_id, "update")
    body = ctx.body()
    permissions, project_ids = _permissions(body.get("permissions", robot.permissions), robot.level)
    if robot.level == "project" and project_ids != robot.project_ids:
        raise harbor_error("BAD_REQUEST", "a project robot cannot move to another project")
    description = body.get("description", robot.description)
    if not isinstance(description, str):
        raise harbor_error("BAD_REQUEST", "description must be a string")
    robots.update_robot(robot, description=description, disabled=boolean_field(body, "disable", robot.disabled),
                        duration=_duration(body.get("duration", robot.duration)), permissions=permissions,
                        project_ids=project_ids)
    return respond(200)


def refresh_secret(ctx: ApiContext, robot_id: str) -> HttpResponse:
    """PATCH: set the given secret (it must meet the password policy) or generate one; shown once."""
    robot = _robot(ctx, robot_id, "update")
    given = ctx.body().get("secret")
    if given:
        robots.set_secret(robot, meeting_policy(given))
        return respond(200)
    secret = robots.generate_secret()
    robots.set_secret(robot, secret)
    return respond(200, {"secret": secret})


def delete_robot(ctx: ApiContext, robot_id: str) -> HttpResponse:
    robots.delete_robot(_robot(ctx, robot_id, "delete"))
    return respond(200)


ROUTES = [
    ("GET", "/robots", list_robots), ("POST", "/robots", create_robot),
    ("GET", "/robots/{robot_id}", get_robot), ("PUT", "/robots/{robot_id}", update_robot),
    ("PATCH", "/robots/{robot_id}", refresh_secret), ("DELETE", "/robots/{robot_id}", delete_robot),
]
