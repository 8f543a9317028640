"""Browser sessions (Harbor's `sid` cookie): each at PK=SESSION#<sha256 of the session id>, SK=SESSION,
with the user, when it expires and `purge_at` (DynamoDB's TTL removes it later). The id itself is never
stored: a leaked table gives no session away."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from chalicelib.store import metadata

_SK = "SESSION"


@dataclass(frozen=True)
class SessionRecord:
    user_id: int
    username: str
    expires_at: int  # epoch seconds


def _pk(session_hash: str) -> str:
    return f"SESSION#{session_hash}"


def create(session_hash: str, record: SessionRecord) -> None:
    metadata.put({"PK": _pk(session_hash), "SK": _SK, "user_id": record.user_id, "username": record.username,
                  "expires_at": record.expires_at, "purge_at": record.expires_at}, if_absent=True)


def get(session_hash: str) -> SessionRecord | None:
    item = metadata.get(_pk(session_hash), _SK)
    return SessionRecord(int(item["user_id"]), item["username"], int(item["expires_at"])) if item else None


def extend(session_hash: str, expires_at: int) -> None:
    with contextlib.suppress(metadata.ConditionFailed):  # logged out meanwhile: it stays gone
        metadata.set_fields(_pk(session_hash), _SK, {"expires_at": expires_at, "purge_at": expires_at})


def delete(session_hash: str) -> None:
    metadata.delete(_pk(session_hash), _SK)
