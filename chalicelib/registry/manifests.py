"""Manifests and tags: stored inline in DynamoDB (S3 above the item size limit), tags moved atomically."""

from __future__ import annotations

import json
from dataclasses import dataclass

from chalicelib import clock
from chalicelib.config import settings
from chalicelib.errors import ServiceError
from chalicelib.registry import formats
from chalicelib.registry.digests import algorithm_of, digest_of, is_digest
from chalicelib.store import keys, metadata, objects


@dataclass(frozen=True)
class StoredManifest:
    digest: str
    media_type: str
    size: int
    body: bytes | None  # None for HEAD, which never loads the body


def _unknown(reference: str) -> ServiceError:
    return ServiceError("MANIFEST_UNKNOWN", detail={"reference": reference})


def resolve(name: str, reference: str) -> str:
    """The digest a reference names (one read for a tag, none for a digest)."""
    if is_digest(reference):
        return reference
    item = metadata.get(keys.repository(name), keys.tag(reference))
    if item is None:
        raise _unknown(reference)
    return item["digest"]


def get(name: str, reference: str, accept: list[str], *, with_body: bool) -> StoredManifest:
    """At most two DynamoDB reads (tag, manifest) and no S3 call unless the manifest is oversized."""
    digest = resolve(name, reference)
    item = metadata.get(keys.repository(name), keys.manifest(digest))
    if item is None:
        raise _unknown(reference)
    if not formats.accepts(accept, item["media_type"]):
        raise ServiceError("MANIFEST_UNKNOWN", f"{item['media_type']} found, but the Accept header "
                            "does not allow it", detail={"reference": reference})
    body = None
    if with_body:
        body = bytes(item["body"]) if "body" in item else objects.get(item["object_key"])
    return StoredManifest(digest, item["media_type"], int(item["size"]), body)


def put(name: str, reference: str, content_type: str, body: bytes) -> tuple[str, str | None]:
    """Store a manifest (and move the tag when the reference is one). Returns (digest, subject)."""
    cfg = settings()
    if len(body) > cfg.manifest_max_bytes:
        raise ServiceError("SIZE_INVALID", f"manifest exceeds {cfg.manifest_max_bytes} bytes", status=413)
    parsed = formats.parse(body, content_type)
    digest = digest_of(body, algorithm_of(reference) if is_digest(reference) else "sha256")
    if is_digest(reference) and digest != reference:
        raise ServiceError("DIGEST_INVALID", detail={"expected": reference, "actual": digest})
    _require_references(name, parsed)
    now = clock.iso()
    item: metadata.Item = {
        "PK": keys.repository(name), "SK": keys.manifest(digest), "digest": digest,
        "media_type": parsed.media_type, "size": len(body), "created": now,
        "artifact_type": parsed.artifact_type, "subject": parsed.subject.digest if parsed.subject else None,
        "blobs": [b.digest for b in parsed.blobs] or None, "children": [c.digest for c in parsed.children] or None,
    }
    if len(body) > cfg.manifest_inline_max_bytes:
        item["object_key"] = objects.manifest_key(digest)
        objects.put(item["object_key"], body)
    else:
        item["body"] = body
    operations = [
        metadata.put_op(item),
        metadata.update_op(keys.CATALOG, name, "SET created = if_not_exists(created, :now), updated = :now",
                           {":now": now}),
    ]
    if not is_digest(reference):
        operations.append(metadata.put_op({"PK": keys.repository(name), "SK": keys.tag(reference),
                                           "digest": digest, "updated": now}))
    if parsed.subject:
        operations.append(metadata.put_op({
            "PK": keys.repository(name), "SK": keys.referrer(parsed.subject.digest, digest),
            "descriptor": json.dumps(_referrer_descriptor(digest, len(body), parsed)),
            "artifact_type": parsed.artifact_type or ""}))
    metadata.transact(operations)
    return digest, parsed.subject.digest if parsed.subject else None


def _referrer_descriptor(digest: str, size: int, parsed: formats.ParsedManifest) -> dict[str, object]:
    descriptor: dict[str, object] = {"mediaType": parsed.media_type, "digest": digest, "size": size}
    if parsed.artifact_type:
        descriptor["artifactType"] = parsed.artifact_type
    if parsed.annotations:
        descriptor["annotations"] = parsed.annotations
    return descriptor


def _require_references(name: str, parsed: formats.ParsedManifest) -> None:
    """Every blob must be linked in the repository and every child manifest stored in it."""
    wanted = {keys.blob(b.digest): b.digest for b in parsed.blobs}
    wanted |= {keys.manifest(c.digest): c.digest for c in parsed.children}
    if not wanted:
        return
    found = {i["SK"] for i in metadata.batch_get((keys.repository(name), sk) for sk in wanted)}
    missing = [digest for sk, digest in wanted.items() if sk not in found]
    if missing:
        raise ServiceError("MANIFEST_BLOB_UNKNOWN", detail={"digests": sorted(missing)})


def delete(name: str, reference: str) -> None:
    """By digest: the manifest, its tags and its referrer entry go together. By tag: the tag only."""
    if not is_digest(reference):
        try:
            metadata.delete(keys.repository(name), keys.tag(reference), must_exist=True)
        except metadata.ConditionFailed as error:
            raise _unknown(reference) from error
        return
    item = metadata.get(keys.repository(name), keys.manifest(reference), consistent=True)
    if item is None:
        raise _unknown(reference)
    tags, _ = metadata.query(keys.repository(name), keys.TAG_PREFIX, projection="PK, SK, digest")
    operations = [metadata.delete_op(keys.repository(name), keys.manifest(reference))]
    operations += [metadata.delete_op(t["PK"], t["SK"]) for t in tags if t["digest"] == reference]
    if item.get("subject"):
        operations.append(metadata.delete_op(keys.repository(name), keys.referrer(item["subject"], reference)))
    for start in range(0, len(operations), 100):  # one transaction holds at most 100 operations
        metadata.transact(operations[start:start + 100])
