"""Blobs: stored once per digest in S3, linked into each repository that may serve them."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from chalicelib import clock
from chalicelib.config import settings
from chalicelib.errors import DomainError
from chalicelib.registry.digests import algorithm_of, digest_of
from chalicelib.store import blobs as store
from chalicelib.store import objects


def linked_size(name: str, digest: str) -> int:
    """Size of a blob linked into the repository; BLOB_UNKNOWN otherwise. One DynamoDB read."""
    size = store.linked_size(name, digest)
    if size is None:
        raise DomainError("BLOB_UNKNOWN", detail={"digest": digest})
    return size


def download_url(name: str, digest: str) -> tuple[str, int]:
    """A short-lived presigned S3 URL for the blob: its bytes never pass through Lambda."""
    size = linked_size(name, digest)
    return objects.presigned_get(objects.blob_key(digest), settings().presign_ttl_seconds), size


def unlink(name: str, digest: str) -> None:
    """Remove the blob from the repository; its bytes stay until garbage collection."""
    try:
        store.unlink(name, digest)
    except store.ConditionFailed as error:
        raise DomainError("BLOB_UNKNOWN", detail={"digest": digest}) from error


def link(name: str, digest: str, size: int) -> bool:
    """Link a stored blob into the repository, then touch its record (in that order: garbage collection
    then sees the link or the touch). False, and no link, when garbage collection took the bytes."""
    now = clock.iso()
    store.link(name, digest, size, now)
    try:
        store.touch_stored(digest, now)
    except store.ConditionFailed:
        store.forget_link(name, digest)
        return False
    return True


def link_new(name: str, digest: str, size: int) -> None:
    """Link bytes just written to S3, then record them."""
    now = clock.iso()
    store.link(name, digest, size, now)
    try:
        store.record_stored(digest, size, now)
    except store.ConditionFailed as error:
        store.forget_link(name, digest)
        raise DomainError("BLOB_UPLOAD_INVALID", "garbage collection is deleting an earlier copy of this blob; "
                                                 "retry the upload", detail={"digest": digest}) from error


def sizes(name: str, digests: list[str]) -> dict[str, int]:
    """Sizes of those of these blobs linked into the repository, by digest."""
    return store.linked_sizes(name, digests) if digests else {}


def stored_size(digest: str) -> int | None:
    """Size of a blob stored in the registry (in any repository), None unless its record and its bytes
    are both there. Whoever would reuse a stored blob checks both: a record is never trusted alone
    (bytes lost outside the registry's control would otherwise stay lost for every later push of that
    blob, in any repository)."""
    size = store.stored_size(digest)
    return size if size is not None and objects.exists(objects.blob_key(digest)) else None


def mount(name: str, digest: str, source: str) -> int | None:
    """Link a blob of `source` into `name` without moving bytes; None when source lacks it."""
    size = store.linked_size(source, digest)
    return size if size is not None and link(name, digest, size) else None


def put_monolithic(name: str, digest: str, data: bytes) -> None:
    """A whole blob in one request (POST ?digest=): verified, stored once, linked."""
    if digest_of(data, algorithm_of(digest)) != digest:
        raise DomainError("DIGEST_INVALID", detail={"digest": digest})
    if stored_size(digest) is None or not link(name, digest, len(data)):
        objects.put(objects.blob_key(digest), data)
        link_new(name, digest, len(data))


STREAM_PART_BYTES = 8 * 1024 * 1024  # S3 parts are at least 5 MiB; a stream holds one part at a time


def store_stream(name: str, digest: str, chunks: Iterable[bytes]) -> int:
    """A blob from a stream (replication, proxy caching): written to its key as a multipart upload, hashed
    on the way, completed only when the digest matches (so nothing unverified becomes visible), then
    linked. Returns its size; DIGEST_INVALID (and nothing stored) when the bytes are not the digest's."""
    key = objects.blob_key(digest)
    hasher = hashlib.new(algorithm_of(digest))
    buffer, size, etags, multipart_id = bytearray(), 0, [], None
    try:
        for chunk in chunks:
            hasher.update(chunk)
            buffer += chunk
            size += len(chunk)
            if len(buffer) >= STREAM_PART_BYTES:
                multipart_id = multipart_id or objects.start_multipart(key)
                etags.append(objects.upload_part(key, multipart_id, len(etags) + 1, bytes(buffer)))
                buffer.clear()
        if f"{algorithm_of(digest)}:{hasher.hexdigest()}" != digest:
            raise DomainError("DIGEST_INVALID", detail={"digest": digest})
        if multipart_id is None:
            objects.put(key, bytes(buffer))
        else:
            if buffer:
                etags.append(objects.upload_part(key, multipart_id, len(etags) + 1, bytes(buffer)))
            objects.complete_multipart(key, multipart_id, etags)
            multipart_id = None
    finally:
        if multipart_id is not None:
            objects.abort_multipart(key, multipart_id)
    link_new(name, digest, size)
    return size
