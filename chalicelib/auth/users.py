"""User accounts: the rules around the user store (chalicelib/store/users.py): passwords are salted
PBKDF2 hashes, never returned; a failed login costs the same work whether or not the user exists."""

from __future__ import annotations

from typing import Any

from chalicelib import projects
from chalicelib.auth.passwords import hash_password, meeting_policy, verify_nothing, verify_password
from chalicelib.config import settings
from chalicelib.errors import harbor_error
from chalicelib.store import parameters
from chalicelib.store.users import User, UserExists, get_user, get_user_by_id, iter_users, update_user, with_password
from chalicelib.store.users import create_user as _store_user
from chalicelib.store.users import delete_user as _forget_user

__all__ = ["User", "UserExists", "get_user", "get_user_by_id", "iter_users"]


def email_taken(email: str, except_user_id: int | None = None) -> bool:
    return any(u.email == email and u.user_id != except_user_id for u in iter_users())


def check_credentials(username: str, password: str) -> User | None:
    """The user if the password is right, else None (unknown user and wrong password alike)."""
    found = with_password(username)
    if found is None:
        verify_nothing(password, settings().password_iterations)
        return None
    return found[0] if verify_password(password, found[1]) else None


def check_password(user: User, password: str) -> bool:
    found = with_password(user.username)
    return found is not None and verify_password(password, found[1])


def create_user(username: str, password: str, *, sysadmin: bool = False, email: str = "", realname: str = "",
                comment: str = "") -> User:
    """Create a user; UserExists when the name is taken."""
    return _store_user(username, hash_password(password, settings().password_iterations), sysadmin=sysadmin,
                       email=email, realname=realname, comment=comment)


def change_password(user: User, new_password: Any, old_password: Any, *, by_user_id: int | None) -> None:
    """A new password meeting the policy; changing one's own needs the old one, and a different one."""
    new_password = meeting_policy(new_password)
    if user.user_id == by_user_id:
        if not isinstance(old_password, str) or not check_password(user, old_password):
            raise harbor_error("FORBIDDEN", "the old password is wrong")
        if old_password == new_password:
            raise harbor_error("BAD_REQUEST", "the new password must differ from the old one")
    set_password(user, new_password)


def update_profile(user: User, *, email: str, realname: str, comment: str) -> None:
    update_user(user, email=email, realname=realname, comment=comment)


def set_password(user: User, password: str) -> None:
    update_user(user, **hash_password(password, settings().password_iterations))


def set_sysadmin(user: User, sysadmin: bool) -> None:
    update_user(user, sysadmin=sysadmin)


def delete_user(user: User, *, by_user_id: int | None) -> None:
    """The admin account and one's own cannot be deleted. The account goes first (it can no longer log
    in), then its memberships."""
    if user.username == "admin" or user.user_id == by_user_id:
        raise harbor_error("FORBIDDEN", "the admin account and your own account cannot be deleted")
    _forget_user(user)
    projects.remove_memberships(user.user_id)


def _initial_admin_password() -> str:
    """HARBOR_ADMIN_PASSWORD (the local launcher's), else the secret the deployment generated. Never a
    default: a stack on a public endpoint must not start with a password everyone knows."""
    cfg = settings()
    if cfg.admin_password:
        return cfg.admin_password
    if cfg.admin_password_secret:
        return parameters.generated_secret(cfg.admin_password_secret)
    raise RuntimeError("no initial admin password: set HARBOR_ADMIN_PASSWORD or ADMIN_PASSWORD_SECRET")


def ensure_admin() -> User:
    """Bootstrap the built-in admin, once (first user: id 1)."""
    existing = get_user("admin")
    if existing:
        return existing
    try:
        return create_user("admin", _initial_admin_password(), sysadmin=True, realname="system admin",
                           comment="admin user")
    except UserExists:
        return get_user("admin")  # type: ignore[return-value]
