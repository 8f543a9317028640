"""User accounts: PK=USERS, SK=<username> (one partition, so the user list pages with a Query) and a
pointer PK=USERID#<id> (store/named.py). The password is kept as a salted hash (auth/passwords.py)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from chalicelib import clock
from chalicelib.errors import Conflict
from chalicelib.store import metadata
from chalicelib.store.named import Named

USERS = "USERS"
_NAMED = Named("USER", name_attribute="username")


class UserExists(Conflict):
    def __init__(self, username: str) -> None:
        super().__init__(f"conflict: username {username} is already used")


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
    item = _NAMED.get(USERS, username)
    return _user(item) if item else None


def with_password(username: str) -> tuple[User, metadata.Item] | None:
    """The user and its stored password hash fields, to check a password against."""
    item = _NAMED.get(USERS, username)
    return (_user(item), item) if item else None


def get_user_by_id(user_id: int) -> User | None:
    found = _NAMED.locate(user_id)
    return get_user(found[1]) if found else None


def iter_users() -> Iterator[User]:
    return (_user(i) for i in _NAMED.iterate(USERS))


def create_user(username: str, password_hash: dict[str, object], *, sysadmin: bool, email: str, realname: str,
                comment: str) -> User:
    """UserExists when the name is taken."""
    user_id = metadata.next_id("user")
    now = clock.iso()
    user = User(user_id, username, sysadmin, email, realname, comment, now, now)
    try:
        _NAMED.create(user_id, USERS, username, {
            "user_id": user_id, "username": username, "sysadmin": sysadmin, "email": email, "realname": realname,
            "comment": comment, "creation_time": now, "update_time": now, **password_hash})
    except metadata.ConditionFailed as error:
        raise UserExists(username) from error
    return user


def update_user(user: User, **fields: object) -> None:
    """Change some of the user's fields (profile, sysadmin, password hash); update_time follows."""
    metadata.set_fields(USERS, user.username, {**fields, "update_time": clock.iso()})


def delete_user(user: User) -> None:
    _NAMED.delete(user.user_id, USERS, user.username)
