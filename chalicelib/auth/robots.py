"""Robot accounts: `<prefix><name>` (system level) or `<prefix><project>+<name>` (project level), the
prefix being the configuration's robot_name_prefix (`robot$` by default), with permissions per
project namespace ("*" for all projects) and a secret shown once.

Kept by chalicelib/store/robots.py, the secret as a salted PBKDF2 hash, never in clear. Permissions name
projects, but grant by project id (`project_ids`, resolved when they are set): a project created later
under a deleted project's name gives its robots nothing.
"""

from __future__ import annotations

import secrets
import string
import time
from typing import Any

from chalicelib.auth.passwords import hash_password, verify_nothing, verify_password
from chalicelib.config import settings
from chalicelib.store import robots as store
from chalicelib.store.robots import NEVER, Robot, RobotExists, delete_robot, get_robot_by_id, iter_robots

__all__ = ["NEVER", "Robot", "RobotExists", "delete_robot", "get_robot_by_id", "iter_robots"]

def generate_secret() -> str:
    """32 characters with upper and lower case letters and digits (Harbor's secret policy)."""
    alphabet = string.ascii_letters + string.digits
    while True:
        secret = "".join(secrets.choice(alphabet) for _ in range(32))
        if any(c.isupper() for c in secret) and any(c.islower() for c in secret) and any(c.isdigit() for c in secret):
            return secret


def expiry(duration: int, start: int) -> int:
    return NEVER if duration == NEVER else start + duration * 86400


def create_robot(full_name: str, description: str, level: str, duration: int, disabled: bool,
                 permissions: list[dict[str, Any]], project_ids: dict[str, int], secret: str) -> Robot:
    epoch = int(time.time())
    return store.create_robot(full_name, description, level, duration, expiry(duration, epoch), disabled,
                              permissions, project_ids, epoch, hash_password(secret, settings().password_iterations))


def check_credentials(full_name: str, secret: str) -> Robot | None:
    """The robot if the secret is right and it is enabled and not expired."""
    found = store.with_secret(full_name)
    if found is None:
        verify_nothing(secret, settings().password_iterations)
        return None
    robot, stored = found
    if not verify_password(secret, stored):
        return None
    return None if robot.disabled or robot.expired else robot


def update_robot(robot: Robot, *, description: str, disabled: bool, duration: int,
                 permissions: list[dict[str, Any]], project_ids: dict[str, int]) -> None:
    store.update_robot(robot, description=description, disabled=disabled, duration=duration,
                       expires_at=expiry(duration, robot.created_epoch), permissions=permissions,
                       project_ids=project_ids)


def set_secret(robot: Robot, secret: str) -> None:
    store.update_robot(robot, **hash_password(secret, settings().password_iterations))


def delete_project_robots(project_id: int) -> None:
    """A deleted project takes its project robots with it (Harbor deletes them with the project)."""
    for robot in iter_robots():
        if robot.of_project(project_id):
            delete_robot(robot)
