"""Robot accounts: `robot$<name>` (system level) or `robot$<project>+<name>` (project level), with
permissions per project namespace ("*" for all projects) and a secret shown once.

Items: PK=ROBOTS, SK=<full name> (secret as a salted PBKDF2 hash, never stored in clear), and a
pointer PK=ROBOTID#<id>. Permissions name projects, but grant by project id (`project_ids`, resolved
when they are set): a project created later under a deleted project's name gives its robots nothing.
"""

from __future__ import annotations

import json
import secrets
import string
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from chalicelib import clock
from chalicelib.auth.passwords import hash_password, verify_nothing, verify_password
from chalicelib.config import settings
from chalicelib.store import metadata

PREFIX = "robot$"
ROBOTS = "ROBOTS"
DEFAULT_DURATION_DAYS = 30
NEVER = -1


class RobotExists(Exception):
    pass


@dataclass(frozen=True)
class Robot:
    robot_id: int
    name: str  # full name, with the robot$ prefix
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


def generate_secret() -> str:
    """32 characters with upper and lower case letters and digits (Harbor's secret policy)."""
    alphabet = string.ascii_letters + string.digits
    while True:
        secret = "".join(secrets.choice(alphabet) for _ in range(32))
        if any(c.isupper() for c in secret) and any(c.islower() for c in secret) and any(c.isdigit() for c in secret):
            return secret


def _robot(item: metadata.Item) -> Robot:
    return Robot(int(item["robot_id"]), item["SK"], item.get("description", ""), item["level"],
                 bool(item.get("disabled", False)), int(item["duration"]), int(item["expires_at"]),
                 json.loads(item["permissions"]), {k: int(v) for k, v in (item.get("project_ids") or {}).items()},
                 item["creation_time"], item["update_time"],
                 int(item["created_epoch"]))


def expiry(duration: int, start: int) -> int:
    return NEVER if duration == NEVER else start + duration * 86400


def create_robot(full_name: str, description: str, level: str, duration: int, disabled: bool,
                 permissions: list[dict[str, Any]], project_ids: dict[str, int], secret: str) -> Robot:
    robot_id = metadata.next_id("robot")
    now, epoch = clock.iso(), int(time.time())
    robot = Robot(robot_id, full_name, description, level, disabled, duration, expiry(duration, epoch), permissions,
                  project_ids, now, now, epoch)
    try:
        metadata.transact([
            metadata.put_op({"PK": ROBOTS, "SK": full_name, "robot_id": robot_id, "description": description,
                             "level": level, "disabled": disabled, "duration": duration,
                             "expires_at": robot.expires_at, "permissions": json.dumps(permissions),
                             "project_ids": project_ids,
                             "creation_time": now, "update_time": now, "created_epoch": epoch,
                             **hash_password(secret, settings().password_iterations)}, if_absent=True),
            metadata.put_op({"PK": f"ROBOTID#{robot_id}", "SK": "ROBOT", "name": full_name}, if_absent=True),
        ])
    except metadata.ConditionFailed as error:
        raise RobotExists(full_name) from error
    return robot


def get_robot_by_id(robot_id: int) -> Robot | None:
    pointer = metadata.get(f"ROBOTID#{robot_id}", "ROBOT")
    item = metadata.get(ROBOTS, pointer["name"]) if pointer else None
    return _robot(item) if item else None


def iter_robots() -> Iterator[Robot]:
    return (_robot(i) for i in metadata.iterate(ROBOTS))


def check_credentials(full_name: str, secret: str) -> Robot | None:
    """The robot if the secret is right and it is enabled and not expired."""
    item = metadata.get(ROBOTS, full_name)
    if item is None:
        verify_nothing(secret, settings().password_iterations)
        return None
    if not verify_password(secret, item):
        return None
    robot = _robot(item)
    return None if robot.disabled or robot.expired else robot


def update_robot(robot: Robot, *, description: str, disabled: bool, duration: int,
                 permissions: list[dict[str, Any]], project_ids: dict[str, int]) -> None:
    metadata.update(ROBOTS, robot.name, "SET description = :d, disabled = :x, #dur = :u, expires_at = :e, "
                    "#perm = :p, project_ids = :i, update_time = :t",
                    {":d": description, ":x": disabled, ":u": duration, ":e": expiry(duration, robot.created_epoch),
                     ":p": json.dumps(permissions), ":i": project_ids, ":t": clock.iso()},
                    names={"#dur": "duration", "#perm": "permissions"}, condition="attribute_exists(PK)")


def set_secret(robot: Robot, secret: str) -> None:
    values = {f":{k}": v for k, v in hash_password(secret, settings().password_iterations).items()}
    metadata.update(ROBOTS, robot.name, "SET password_hash = :password_hash, password_salt = :password_salt, "
                    "password_iterations = :password_iterations, update_time = :t", {**values, ":t": clock.iso()},
                    condition="attribute_exists(PK)")


def delete_robot(robot: Robot) -> None:
    metadata.transact([metadata.delete_op(ROBOTS, robot.name),
                       metadata.delete_op(f"ROBOTID#{robot.robot_id}", "ROBOT")])


def delete_project_robots(project_id: int) -> None:
    """A deleted project takes its project robots with it (Harbor deletes them with the project)."""
    for robot in iter_robots():
        if robot.of_project(project_id):
            delete_robot(robot)
