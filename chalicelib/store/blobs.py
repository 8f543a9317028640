"""Blob records: a blob linked into a repository at PK=REPO#<name>, SK=BLOB#<digest> (its size), and
the blob's global record PK=BLOB#<digest>, SK=BLOB, written once its bytes are in S3.

Garbage collection (chalicelib/operations/gc.py) deletes what nothing references, conditionally on the
records being as it read them: every new link touches the global record (`touched`), a manifest push
touches the links it relies on, and a record garbage collection is deleting (`gc_state`) can be
neither touched nor written again until it is gone."""

from __future__ import annotations

from collections.abc import Iterable

from chalicelib.store import cache, keys, metadata
from chalicelib.store.manifests import repository_scope
from chalicelib.store.metadata import ConditionFailed

__all__ = ["ConditionFailed"]


def link_cache_key(name: str, digest: str) -> cache.Key:
    return cache.Key(repository_scope(name), f"blob:{name}:{digest}")


def link_table_key(name: str, digest: str) -> tuple[str, str]:
    """The item `linked_size` reads when the cache does not answer (metadata.prefetched)."""
    return keys.repository(name), keys.blob(digest)


def linked_size(name: str, digest: str) -> int | None:
    """Size of the blob when it is linked into the repository (through the cache: store/manifests.py)."""
    def read(consistent: bool) -> int | None:
        item = metadata.get(keys.repository(name), keys.blob(digest), consistent)
        return int(item["size"]) if item else None

    return cache.read(link_cache_key(name, digest), read, str, int)


def linked_sizes(name: str, digests: Iterable[str]) -> dict[str, int]:
    """Sizes of those of these blobs that are linked into the repository (BatchGets)."""
    items = metadata.batch_get((keys.repository(name), keys.blob(d)) for d in digests)
    return {i["SK"][len(keys.BLOB_PREFIX):]: int(i["size"]) for i in items}


def link(name: str, digest: str, size: int, now: str) -> None:
    metadata.put({"PK": keys.repository(name), "SK": keys.blob(digest), "size": size, "created": now})


def forget_link(name: str, digest: str) -> None:
    """Remove a link just made for a blob that turned out to be going (see `touch_stored`)."""
    metadata.delete(keys.repository(name), keys.blob(digest))
    cache.invalidate([repository_scope(name)])


def unlink(name: str, digest: str) -> None:
    """ConditionFailed when the blob is not linked."""
    metadata.delete(keys.repository(name), keys.blob(digest), must_exist=True)
    cache.invalidate([repository_scope(name)])


def stored_size(digest: str) -> int | None:
    item = metadata.get(keys.blob(digest), keys.BLOB)
    return int(item["size"]) if item else None


def touch_stored(digest: str, now: str) -> None:
    """Note a new use of a stored blob (after its link is written); ConditionFailed when the record is
    gone or garbage collection is deleting it."""
    metadata.set_fields(keys.blob(digest), keys.BLOB, {"touched": now}, expected={"gc_state": None})


def record_stored(digest: str, size: int, now: str) -> None:
    """Record bytes just written to S3 (after the link to them); ConditionFailed when garbage collection
    is deleting an earlier copy of them."""
    try:
        metadata.put({"PK": keys.blob(digest), "SK": keys.BLOB, "size": size, "created": now}, if_absent=True)
    except ConditionFailed:
        touch_stored(digest, now)  # a concurrent upload of the same bytes recorded them first
