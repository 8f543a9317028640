"""Blobs: stored once per digest in S3, linked into each repository that may serve them."""

from __future__ import annotations

from chalicelib import clock
from chalicelib.config import settings
from chalicelib.errors import ServiceError
from chalicelib.registry.digests import algorithm_of, digest_of
from chalicelib.store import keys, metadata, objects


def linked_size(name: str, digest: str) -> int:
    """Size of a blob linked into the repository; BLOB_UNKNOWN otherwise. One DynamoDB read."""
    item = metadata.get(keys.repository(name), keys.blob(digest))
    if item is None:
        raise ServiceError("BLOB_UNKNOWN", detail={"digest": digest})
    return int(item["size"])


def download_url(name: str, digest: str) -> tuple[str, int]:
    """A short-lived presigned S3 URL for the blob: its bytes never pass through Lambda."""
    size = linked_size(name, digest)
    return objects.presigned_get(objects.blob_key(digest), settings().presign_ttl_seconds), size


def unlink(name: str, digest: str) -> None:
    """Remove the blob from the repository; its bytes stay until garbage collection."""
    try:
        metadata.delete(keys.repository(name), keys.blob(digest), must_exist=True)
    except metadata.ConditionFailed as error:
        raise ServiceError("BLOB_UNKNOWN", detail={"digest": digest}) from error


def link(name: str, digest: str, size: int) -> None:
    metadata.put({"PK": keys.repository(name), "SK": keys.blob(digest), "size": size,
                  "created": clock.iso()})


def known_size(digest: str) -> int | None:
    """Size of a blob stored in the registry (in any repository), None when it is not stored."""
    item = metadata.get(keys.blob(digest), keys.BLOB)
    return int(item["size"]) if item else None


def record(digest: str, size: int) -> None:
    """Note that the blob's bytes are in S3 (written after the object, so it never lies)."""
    metadata.put({"PK": keys.blob(digest), "SK": keys.BLOB, "size": size, "created": clock.iso()})


def mount(name: str, digest: str, source: str) -> int | None:
    """Link a blob of `source` into `name` without moving bytes; None when source lacks it."""
    item = metadata.get(keys.repository(source), keys.blob(digest))
    if item is None:
        return None
    link(name, digest, int(item["size"]))
    return int(item["size"])


def put_monolithic(name: str, digest: str, data: bytes) -> None:
    """A whole blob in one request (POST ?digest=): verified, stored once, linked."""
    if digest_of(data, algorithm_of(digest)) != digest:
        raise ServiceError("DIGEST_INVALID", detail={"digest": digest})
    if known_size(digest) is None:
        objects.put(objects.blob_key(digest), data)
        record(digest, len(data))
    link(name, digest, len(data))
