"""Manifests and tags: stored inline in DynamoDB (S3 above the item size limit), tags moved atomically."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from chalicelib import clock
from chalicelib.audit import log as audit
from chalicelib.config import settings
from chalicelib.errors import ServiceError
from chalicelib.observability import logger
from chalicelib.projects import Project
from chalicelib.registry import artifacts, blobs, formats
from chalicelib.registry.digests import algorithm_of, digest_of, is_digest
from chalicelib.store import keys, labels, metadata, objects


@dataclass(frozen=True)
class StoredManifest:
    digest: str
    media_type: str
    size: int
    body: bytes | None  # None for HEAD, which never loads the body
    record: metadata.Item  # the manifest's item, for what else a pull checks (its policies)


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
    return StoredManifest(digest, item["media_type"], int(item["size"]), body, item)


def put(name: str, reference: str, content_type: str, body: bytes,
        extra_tags: Sequence[str] = ()) -> tuple[str, str | None]:
    """Store a manifest and move the tags to it: the reference when it is a tag, and `extra_tags`
    (OCI's `?tag=` on a PUT by digest). Returns (digest, subject).

    The artifact, tag and repository records Harbor's API shows are written in the same transaction,
    conditional on the manifest being as it was read: a concurrent push or delete of the same digest
    makes it read again, so the repository's artifact count and the children's parent counts change
    exactly once per artifact, whatever the interleaving.
    """
    cfg = settings()
    if len(body) > cfg.manifest_max_bytes:
        raise ServiceError("SIZE_INVALID", f"manifest exceeds {cfg.manifest_max_bytes} bytes", status=413)
    parsed = formats.parse(body, content_type)
    digest = digest_of(body, algorithm_of(reference) if is_digest(reference) else "sha256")
    if is_digest(reference) and digest != reference:
        raise ServiceError("DIGEST_INVALID", detail={"expected": reference, "actual": digest})
    tags = list(dict.fromkeys([*([] if is_digest(reference) else [reference]), *extra_tags]))
    config_digest = artifacts.config_digest(parsed)
    config = objects.get(objects.blob_key(config_digest)) if config_digest else None
    stored_body: dict[str, object] = {"body": body}
    if len(body) > cfg.manifest_inline_max_bytes:
        stored_body = {"object_key": objects.manifest_key(digest)}
        objects.put(objects.manifest_key(digest), body)
    for _ in range(_WRITE_ATTEMPTS):
        state = _state(name, digest, tags, parsed)
        try:
            _write(name, digest, tags, parsed, state, artifacts.describe(parsed, len(body), config, state.child_ids),
                   len(body), stored_body)
        except metadata.ConditionFailed:
            continue  # pushed or deleted concurrently: read the new state and write again
        return digest, parsed.subject.digest if parsed.subject else None
    raise ServiceError("TOOMANYREQUESTS", f"{name}@{digest} is being changed concurrently; retry", status=429)


_WRITE_ATTEMPTS = 8


def _write(name: str, digest: str, tags: list[str], parsed: formats.ParsedManifest, state: _State,
           info: artifacts.ArtifactInfo, size: int, stored_body: dict[str, object]) -> None:
    now = clock.iso()
    previous = state.manifest or {}
    item: metadata.Item = {
        "PK": keys.repository(name), "SK": keys.manifest(digest), "digest": digest,
        "media_type": parsed.media_type, "size": size, "created": previous.get("created", now),
        "artifact_type": parsed.artifact_type, "subject": parsed.subject.digest if parsed.subject else None,
        "blobs": [b.digest for b in parsed.blobs] or None, "children": [c.digest for c in parsed.children] or None,
        "artifact_id": previous.get("artifact_id") or metadata.next_id("artifact"), "push_time": now,
        "type": info.type, "artifact_size": info.size, "extra_attrs": json.dumps(info.extra_attrs),
        "annotations": _small_json(parsed.annotations), "references": json.dumps(info.references),
        "parent_count": previous.get("parent_count"), "signature_of": _cosign_subject(tags, parsed), **stored_body,
    }
    new = state.manifest is None
    operations = [metadata.put_op(item, if_absent=new, must_exist=not new),
                  _catalog_op(name, state, now, 1 if new else 0)]
    for tag in tags:
        existing = state.tags.get(tag) or {}
        tag_id = existing.get("tag_id") or metadata.next_id("tag")
        operations.append(metadata.put_op({"PK": keys.repository(name), "SK": keys.tag(tag), "digest": digest,
                                           "tag_id": tag_id, "updated": now}))
    if parsed.subject:
        operations.append(metadata.put_op({
            "PK": keys.repository(name), "SK": keys.referrer(parsed.subject.digest, digest),
            "descriptor": json.dumps(_referrer_descriptor(digest, size, parsed)),
            "artifact_type": parsed.artifact_type or ""}))
    children = [c.digest for c in parsed.children] if new else []
    room = _TRANSACTION_LIMIT - len(operations)  # children that fit beside the manifest's own writes
    metadata.transact(operations + _parent_count_ops(name, children[:room], 1))
    for start in range(room, len(children), 100):
        metadata.transact(_parent_count_ops(name, children[start:start + 100], 1))


_COSIGN_TAG = re.compile(r"sha256-([a-f0-9]{64})\.sig")
COSIGN_LAYER = "application/vnd.dev.cosign.simplesigning.v1+json"


def _cosign_subject(tags: list[str], parsed: formats.ParsedManifest) -> str | None:
    """cosign's tag convention (the only one Harbor 2.6 knows): a manifest tagged sha256-<hex>.sig
    with a simplesigning layer signs sha256:<hex> in the same repository."""
    if not any(b.media_type == COSIGN_LAYER for b in parsed.blobs):
        return None
    match = next(filter(None, (_COSIGN_TAG.fullmatch(tag) for tag in tags)), None)
    return f"sha256:{match[1]}" if match else None


def _small_json(value: object) -> str | None:
    """JSON of a value small enough to sit beside the manifest in its item; None sends readers to the body."""
    encoded = json.dumps(value)
    return encoded if len(encoded) <= _ANNOTATIONS_INLINE_MAX else None


_ANNOTATIONS_INLINE_MAX = 16_384
_TRANSACTION_LIMIT = 100  # DynamoDB's; the manifest, catalog, tags and referrer come first
MAX_TAGS_PER_PUT = 20


@dataclass(frozen=True)
class _State:
    manifest: metadata.Item | None
    tags: dict[str, metadata.Item]  # the tag items that exist, by tag
    catalog: metadata.Item | None
    child_ids: dict[str, int]


def _state(name: str, digest: str, tags: list[str], parsed: formats.ParsedManifest) -> _State:
    """One BatchGet: the referenced blobs and children (all must exist), and the records a push updates."""
    repo = keys.repository(name)
    wanted = {(repo, keys.blob(b.digest)): b.digest for b in parsed.blobs}
    wanted |= {(repo, keys.manifest(c.digest)): c.digest for c in parsed.children}
    own = [(repo, keys.manifest(digest)), (keys.CATALOG, name), *((repo, keys.tag(tag)) for tag in tags)]
    found = {(i["PK"], i["SK"]): i for i in metadata.batch_get([*wanted, *own], consistent=True)}
    missing = [d for k, d in wanted.items() if k not in found]
    if missing:
        raise ServiceError("MANIFEST_BLOB_UNKNOWN", detail={"digests": sorted(missing)})
    child_ids = {found[(repo, keys.manifest(c.digest))]["digest"]: int(found[(repo, keys.manifest(c.digest))].get(
        "artifact_id", 0)) for c in parsed.children}
    existing_tags = {tag: found[(repo, keys.tag(tag))] for tag in tags if (repo, keys.tag(tag)) in found}
    return _State(found.get(own[0]), existing_tags, found.get(own[1]), child_ids)


def _catalog_op(name: str, state: _State, now: str, new_artifacts: int) -> dict[str, object]:
    repository_id = int(state.catalog["repository_id"]) if state.catalog and "repository_id" in state.catalog \
        else metadata.next_id("repository")
    return metadata.update_op(
        keys.CATALOG, name, "SET created = if_not_exists(created, :now), updated = :now, "
        "repository_id = if_not_exists(repository_id, :rid) ADD artifact_count :n",
        {":now": now, ":rid": repository_id, ":n": new_artifacts})


def _parent_count_ops(name: str, children: list[str], delta: int) -> list[dict[str, object]]:
    """Children of an index count their parents: Harbor lists an untagged child only under its index."""
    return [metadata.update_op(keys.repository(name), keys.manifest(child), "ADD parent_count :d", {":d": delta})
            for child in children]


def _referrer_descriptor(digest: str, size: int, parsed: formats.ParsedManifest) -> dict[str, object]:
    descriptor: dict[str, object] = {"mediaType": parsed.media_type, "digest": digest, "size": size}
    if parsed.artifact_type:
        descriptor["artifactType"] = parsed.artifact_type
    if parsed.annotations:
        descriptor["annotations"] = parsed.annotations
    return descriptor


def delete(name: str, reference: str) -> None:
    """By digest: the manifest, its tags, its referrer entry and its accessories (cosign signatures and
    OCI referrers, which Harbor deletes with their subject) go together. By tag: the tag only."""
    if not is_digest(reference):
        try:
            metadata.delete(keys.repository(name), keys.tag(reference), must_exist=True)
        except metadata.ConditionFailed as error:
            raise _unknown(reference) from error
        return
    item = metadata.get(keys.repository(name), keys.manifest(reference), consistent=True)
    if item is None:
        raise _unknown(reference)
    if int(item.get("parent_count") or 0) > 0:  # Harbor's deleteDeeply refuses a referenced root
        raise ServiceError("VIOLATE_FOREIGN_KEY_CONSTRAINT", "the deleting artifact is referenced by others")
    tags, _ = metadata.query(keys.repository(name), keys.TAG_PREFIX, projection="PK, SK, digest")
    # The first transaction deletes the manifest only if it is still there: of two concurrent deletes,
    # one counts it out; the other finds it gone.
    operations = [metadata.delete_op(keys.repository(name), keys.manifest(reference), must_exist=True),
                  metadata.update_op(keys.CATALOG, name, "ADD artifact_count :n", {":n": -1})]
    operations += [metadata.delete_op(t["PK"], t["SK"]) for t in tags if t["digest"] == reference]
    if item.get("subject"):
        operations.append(metadata.delete_op(keys.repository(name), keys.referrer(item["subject"], reference)))
    existing_children = {i["SK"] for i in metadata.batch_get(
        (keys.repository(name), keys.manifest(c)) for c in item.get("children") or [])}
    operations += _parent_count_ops(name, [c for c in item.get("children") or []
                                           if keys.manifest(c) in existing_children], -1)
    try:
        metadata.transact(operations[:100])
    except metadata.ConditionFailed as error:
        raise _unknown(reference) from error
    for start in range(100, len(operations), 100):  # one transaction holds at most 100 operations
        metadata.transact(operations[start:start + 100])
    labels.detach_all(name, reference)
    for accessory in accessory_digests(name, reference):
        with contextlib.suppress(ServiceError):  # already gone: deleted concurrently
            delete(name, accessory)


def accessory_digests(name: str, digest: str) -> list[str]:
    """Digests of the artifacts about this one: OCI referrers, and a cosign signature tagged sha256-<hex>.sig."""
    referrers, _ = metadata.query(keys.repository(name), keys.referrer(digest), projection="SK")
    found = [item["SK"].rsplit("#", 1)[1] for item in referrers]
    signature_tag = metadata.get(keys.repository(name), keys.tag(digest.replace(":", "-", 1) + ".sig"))
    if signature_tag:
        signature = metadata.get(keys.repository(name), keys.manifest(signature_tag["digest"]))
        if signature and signature.get("signature_of") == digest:
            found.append(signature_tag["digest"])
    return found


def record_pull(project: Project, name: str, digest: str, reference: str, username: str) -> None:
    """One transaction per pull: the audit record and its counter, the repository's pull count, the
    artifact's pull time.
    Never raises: a pull that was served is not failed by its bookkeeping."""
    now = clock.iso()
    try:
        metadata.transact([
            *audit.operations(project, "pull", "artifact", f"{name}:{reference}", username),
            metadata.update_op(keys.CATALOG, name, "ADD pull_count :one", {":one": 1}, must_exist=True),
            metadata.update_op(keys.repository(name), keys.manifest(digest), "SET pull_time = :now", {":now": now},
                               must_exist=True),
        ])
    except Exception:
        logger.exception("pull not recorded", extra={"repository": name, "digest": digest})


class TagExists(Exception):
    pass


def create_tag(name: str, tag: str, digest: str) -> None:
    """Point a new tag at a stored manifest (Harbor's 'add tag'); TagExists when the name is taken."""
    try:
        metadata.put({"PK": keys.repository(name), "SK": keys.tag(tag), "digest": digest,
                      "tag_id": metadata.next_id("tag"), "updated": clock.iso()}, if_absent=True)
    except metadata.ConditionFailed as error:
        raise TagExists(tag) from error


class ArtifactExists(Exception):
    pass


def copy(source: str, digest: str, target: str, tags: list[str]) -> str:
    """Copy an artifact between repositories without moving bytes: link its blobs into the target,
    copy an index's children first, then store the manifest and point each of `tags` at it (Harbor
    copies the source's tags along). ArtifactExists when the target already holds it."""
    if metadata.get(keys.repository(target), keys.manifest(digest)) is not None:
        raise ArtifactExists(f"{target}@{digest}")
    _copy(source, digest, target)
    for tag in tags:
        put(target, tag, *_body(target, digest))
    return digest


def _body(name: str, digest: str) -> tuple[str, bytes]:
    found = get(name, digest, [], with_body=True)
    return found.media_type, found.body or b""


def _copy(source: str, digest: str, target: str) -> None:
    media_type, body = _body(source, digest)
    parsed = formats.parse(body, media_type)
    for child in parsed.children:
        _copy(source, child.digest, target)
    if parsed.blobs:
        links = metadata.batch_get((keys.repository(source), keys.blob(b.digest)) for b in parsed.blobs)
        for link in links:
            blobs.link(target, link["SK"][len(keys.BLOB_PREFIX):], int(link["size"]))
    put(target, digest, media_type, body)
