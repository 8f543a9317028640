"""Blob records: a blob linked into a repository at PK=REPO#<name>, SK=BLOB#<digest> (its size), and
the blob's global record PK=BLOB#<digest>, SK=BLOB, written once its bytes are in S3."""

from __future__ import annotations

from collections.abc import Iterable

from chalicelib.store import keys, metadata
from chalicelib.store.metadata import ConditionFailed

__all__ = ["ConditionFailed"]


def linked_size(name: str, digest: str) -> int | None:
    """Size of the blob when it is linked into the repository."""
    item = metadata.get(keys.repository(name), keys.blob(digest))
    return int(item["size"]) if item else None


def linked_sizes(name: str, digests: Iterable[str]) -> dict[str, int]:
    """Sizes of those of these blobs that are linked into the repository (BatchGets)."""
    items = metadata.batch_get((keys.repository(name), keys.blob(d)) for d in digests)
    return {i["SK"][len(keys.BLOB_PREFIX):]: int(i["size"]) for i in items}


def link(name: str, digest: str, size: int, now: str) -> None:
    metadata.put({"PK": keys.repository(name), "SK": keys.blob(digest), "size": size, "created": now})


def unlink(name: str, digest: str) -> None:
    """ConditionFailed when the blob is not linked."""
    metadata.delete(keys.repository(name), keys.blob(digest), must_exist=True)


def stored_size(digest: str) -> int | None:
    item = metadata.get(keys.blob(digest), keys.BLOB)
    return int(item["size"]) if item else None


def record_stored(digest: str, size: int, now: str) -> None:
    metadata.put({"PK": keys.blob(digest), "SK": keys.BLOB, "size": size, "created": now})
