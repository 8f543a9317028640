"""User accounts: PK=USERS, SK=<username> (one partition, so the user list pages with a Query) and a
pointer PK=USERID#<id> for Harbor's id-addressed API. Passwords: salted PBKDF2, never returned."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from chalicelib import clock, projects
from chalicelib.auth.passwords import hash_password, verify_nothing, verify_password
from chalicelib.config import settings
from chalicelib.store import metadata, parameters

USERS = "USERS"


class UserExists(Exception):
    pass


@dataclass(frozen=True)
class User:
    user_id: int
    username: str
    sysadmin: bool
    email: str = ""
    realname: str = ""
    comment: str = ""
    creation_time: str = ""
    update_time: str = ""


def _user(item: metadata.Item) -> User:
    return User(int(item["user_id"]), item["username"], bool(item.get("sysadmin", False)), item.get("email", ""),
                item.get("realname", ""), item.get("comment", ""), item.get("creation_time", ""),
                item.get("update_time", ""))


def get_user(username: str) -> User | None:
    item = metadata.get(USERS, username)
    return _user(item) if item else None


def get_user_by_id(user_id: int) -> User | None:
    pointer = metadata.get(f"USERID#{user_id}", "USER")
    return get_user(pointer["username"]) if pointer else None


def iter_users() -> Iterator[User]:
    return (_user(i) for i in metadata.iterate(USERS))


def email_taken(email: str, except_user_id: int | None = None) -> bool:
    return any(u.email == email and u.user_id != except_user_id for u in iter_users())


def check_credentials(username: str, password: str) -> User | None:
    """The user if the password is right, else None (unknown user and wrong password alike)."""
    item = metadata.get(USERS, username)
    if item is None:
        verify_nothing(password, settings().password_iterations)
        return None
    return _user(item) if verify_password(password, item) else None


def check_password(user: User, password: str) -> bool:
    item = metadata.get(USERS, user.username)
    return item is not None and verify_password(password, item)


def create_user(username: str, password: str, *, sysadmin: bool = False, email: str = "", realname: str = "",
                comment: str = "") -> User:
    """Create a user; UserExists when the name is taken."""
    user_id = metadata.next_id("user")
    now = clock.iso()
    try:
        metadata.transact([
            metadata.put_op({"PK": USERS, "SK": username, "user_id": user_id, "username": username,
                             "sysadmin": sysadmin, "email": email, "realname": realname, "comment": comment,
                             "creation_time": now, "update_time": now,
                             **hash_password(password, settings().password_iterations)}, if_absent=True),
            metadata.put_op({"PK": f"USERID#{user_id}", "SK": "USER", "username": username}, if_absent=True),
        ])
    except metadata.ConditionFailed as error:
        raise UserExists(username) from error
    return User(user_id, username, sysadmin, email, realname, comment, now, now)


def update_profile(user: User, *, email: str, realname: str, comment: str) -> None:
    metadata.update(USERS, user.username, "SET email = :e, realname = :r, #c = :c, update_time = :t",
                    {":e": email, ":r": realname, ":c": comment, ":t": clock.iso()}, names={"#c": "comment"},
                    condition="attribute_exists(PK)")


def set_password(user: User, password: str) -> None:
    values = {f":{k}": v for k, v in hash_password(password, settings().password_iterations).items()}
    metadata.update(USERS, user.username, "SET password_hash = :password_hash, password_salt = :password_salt, "
                    "password_iterations = :password_iterations, update_time = :t", {**values, ":t": clock.iso()},
                    condition="attribute_exists(PK)")


def set_sysadmin(user: User, sysadmin: bool) -> None:
    metadata.update(USERS, user.username, "SET sysadmin = :s, update_time = :t", {":s": sysadmin, ":t": clock.iso()},
                    condition="attribute_exists(PK)")


def delete_user(user: User) -> None:
    """The account goes first (it can no longer log in), then its memberships."""
    metadata.transact([metadata.delete_op(USERS, user.username), metadata.delete_op(f"USERID#{user.user_id}", "USER")])
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
