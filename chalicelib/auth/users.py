"""User accounts (the admin bootstrap now; Harbor's /users API builds on this record)."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib import clock
from chalicelib.auth.passwords import hash_password, verify_password
from chalicelib.config import settings
from chalicelib.store import metadata


def _pk(username: str) -> str:
    return f"USER#{username}"


@dataclass(frozen=True)
class User:
    user_id: int
    username: str
    sysadmin: bool


def _user(item: metadata.Item) -> User:
    return User(int(item["user_id"]), item["username"], bool(item.get("sysadmin", False)))


def get_user(username: str) -> User | None:
    item = metadata.get(_pk(username), "USER")
    return _user(item) if item else None


def check_credentials(username: str, password: str) -> User | None:
    """The user if the password is right, else None (unknown user and wrong password alike)."""
    item = metadata.get(_pk(username), "USER")
    if item is None or not verify_password(password, item):
        return None
    return _user(item)


def create_user(username: str, password: str, *, sysadmin: bool = False) -> User:
    """Create a user; raises metadata.ConditionFailed when the name is taken."""
    user_id = metadata.next_id("user")
    now = clock.iso()
    metadata.put({
        "PK": _pk(username), "SK": "USER", "user_id": user_id, "username": username,
        "sysadmin": sysadmin, "creation_time": now, "update_time": now,
        **hash_password(password, settings().password_iterations),
    }, if_absent=True)
    return User(user_id, username, sysadmin)


def ensure_admin() -> User:
    """Bootstrap the built-in admin with HARBOR_ADMIN_PASSWORD, once (first user: id 1)."""
    existing = get_user("admin")
    if existing:
        return existing
    try:
        return create_user("admin", settings().admin_password, sysadmin=True)
    except metadata.ConditionFailed:
        return get_user("admin")  # type: ignore[return-value]
