"""Robot accounts: PK=ROBOTS, SK=<full name> and a pointer PK=ROBOTID#<id> (store/named.py). The secret
is kept only as a salted hash; permissions as JSON, with the project id each namespace named when granted."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from chalicelib import clock
from chalicelib.errors import Conflict
from chalicelib.store import metadata
from chalicelib.store.named import Named

ROBOTS = "ROBOTS"
NEVER = -1
_NAMED = Named("ROBOT")


class RobotExists(Conflict):
    def __init__(self, full_name: str) -> None:
        super().__init__(f"conflict: the robot {full_name} already exists")


@dataclass(frozen=True)
class Robot:
    robot_id: int
    name: str  # full name, with the robot name prefix it was created under
    description: str
    level: str  # system | project
    disabled: bool
    duration: int
    expires_at: int  # unix seconds, -1 never
    permissions: list[dict[str, Any]]
    project_ids: dict[str, int]  # namespace (project name) -> the id of the project it named when granted
    creation_time: str
    update_time: str
    created_epoch: int

    @property
    def expired(self) -> bool:
        return self.expires_at != NEVER and time.time() >= self.expires_at

    def namespaces(self) -> dict[int | str, frozenset[tuple[str, str]]]:
        """(resource, action) granted per project id ("*": every project)."""
        granted: dict[int | str, set[tuple[str, str]]] = {}
        for permission in self.permissions:
            namespace = permission["namespace"]
            scope = "*" if namespace == "*" else self.project_ids.get(namespace)
            if scope is None:
                continue
            for access in permission.get("access", []):
                if access.get("effect", "allow") == "allow":
                    granted.setdefault(scope, set()).add((access["resource"], access["action"]))
        return {scope: frozenset(perms) for scope, perms in granted.items()}

    def of_project(self, project_id: int) -> bool:
        """A project robot of this project."""
        return self.level == "project" and project_id in self.project_ids.values()


def _robot(item: metadata.Item) -> Robot:
    return Robot(int(item["robot_id"]), item["SK"], item.get("description", ""), item["level"],
                 bool(item.get("disabled", False)), int(item["duration"]), int(item["expires_at"]),
                 json.loads(item["permissions"]), {k: int(v) for k, v in (item.get("project_ids") or {}).items()},
                 item["creation_time"], item["update_time"],
                 int(item["created_epoch"]))


def create_robot(full_name: str, description: str, level: str, duration: int, expires_at: int, disabled: bool,
                 permissions: list[dict[str, Any]], project_ids: dict[str, int], epoch: int,
                 secret_hash: dict[str, object]) -> Robot:
    """RobotExists when the name is taken."""
    robot_id = metadata.next_id("robot")
    now = clock.iso()
    robot = Robot(robot_id, full_name, description, level, disabled, duration, expires_at, permissions,
                  project_ids, now, now, epoch)
    try:
        _NAMED.create(robot_id, ROBOTS, full_name, {
            "robot_id": robot_id, "description": description, "level": level, "disabled": disabled,
            "duration": duration, "expires_at": expires_at, "permissions": json.dumps(permissions),
            "project_ids": project_ids, "creation_time": now, "update_time": now, "created_epoch": epoch,
            **secret_hash})
    except metadata.ConditionFailed as error:
        raise RobotExists(full_name) from error
    return robot


def get_robot_by_id(robot_id: int) -> Robot | None:
    found = _NAMED.locate(robot_id)
    item = _NAMED.get(ROBOTS, found[1]) if found else None
    return _robot(item) if item else None


def with_secret(full_name: str) -> tuple[Robot, metadata.Item] | None:
    """The robot and its stored secret hash fields, to check a secret against."""
    item = _NAMED.get(ROBOTS, full_name)
    return (_robot(item), item) if item else None


def iter_robots() -> Iterator[Robot]:
    return (_robot(i) for i in _NAMED.iterate(ROBOTS))


def update_robot(robot: Robot, **fields: Any) -> None:
    """Change some fields (permissions as given, stored as JSON); update_time follows."""
    if "permissions" in fields:
        fields["permissions"] = json.dumps(fields["permissions"])
    metadata.set_fields(ROBOTS, robot.name, {**fields, "update_time": clock.iso()})


def delete_robot(robot: Robot) -> None:
    _NAMED.delete(robot.robot_id, ROBOTS, robot.name)
