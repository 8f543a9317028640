"""Upload sessions: PK=UPLOAD#<id>, SK=UPLOAD, with the byte offset, the S3 multipart id and part
ETags, the bytes not yet in a part (`pending`), the resumable hash states (`hash_<algorithm>`), and
`purge_at`, the table's TTL attribute: an abandoned session's item disappears by itself. Each write
is conditional on the version the writer read, so of two racing chunks one wins."""

from __future__ import annotations

from typing import Any

from chalicelib.store import keys, metadata
from chalicelib.store.metadata import ConditionFailed, Item

__all__ = ["ConditionFailed", "Item"]


def create(upload_id: str, name: str, started: str, purge_at: int, hash_states: dict[str, bytes]) -> None:
    metadata.put({"PK": keys.upload(upload_id), "SK": keys.UPLOAD, "name": name, "offset": 0, "version": 0,
                  "etags": [], "pending": 0, "started": started, "purge_at": purge_at,
                  **{f"hash_{a}": s for a, s in hash_states.items()}}, if_absent=True)


def get(upload_id: str) -> Item | None:
    return metadata.get(keys.upload(upload_id), keys.UPLOAD, consistent=True)


def advance(upload_id: str, read_version: int, fields: dict[str, Any]) -> None:
    """Write the session's new state; ConditionFailed when another writer changed it since
    `read_version` was read."""
    metadata.set_fields(keys.upload(upload_id), keys.UPLOAD, fields, expected={"version": read_version})


def delete(upload_id: str) -> None:
    metadata.delete(keys.upload(upload_id), keys.UPLOAD)
