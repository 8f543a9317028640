"""Manifests and tags: stored inline in DynamoDB (S3 above the item size limit), tags moved atomically."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from chalicelib import clock
from chalicelib.config import settings
from chalicelib.errors import Conflict, DomainError, TooLarge
from chalicelib.registry import artifacts, blobs, formats
from chalicelib.registry.digests import algorithm_of, digest_of, is_digest
from chalicelib.store import labels, objects
from chalicelib.store import manifests as store


@dataclass(frozen=True)
class StoredManifest:
    digest: str
    media_type: str
    size: int
    body: bytes | None  # None for HEAD, which never loads the body
    record: store.ManifestRecord | None  # for what else a pull checks (its policies); None: not stored here


def _unknown(reference: str) -> DomainError:
    return DomainError("MANIFEST_UNKNOWN", detail={"reference": reference})


def resolve(name: str, reference: str) -> str:
    """The digest a reference names (one read for a tag, none for a digest)."""
    if is_digest(reference):
        return reference
    digest = store.tag_target(name, reference)
    if digest is None:
        raise _unknown(reference)
    return digest


def get(name: str, reference: str, accept: list[str], *, with_body: bool) -> StoredManifest:
    """From the cache when warm; else at most two DynamoDB reads (tag, manifest). No S3 call unless the
    manifest is oversized."""
    record = store.pulled(name, reference)
    if record is None:
        raise _unknown(reference)
    digest = record.digest
    if not formats.accepts(accept, record.media_type):
        raise DomainError("MANIFEST_UNKNOWN", f"{record.media_type} found, but the Accept header "
                            "does not allow it", detail={"reference": reference})
    body = None
    if with_body:
        body = record.body if record.body is not None else objects.get(record.object_key or "")
    return StoredManifest(digest, record.media_type, record.size, body, record)


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
        raise TooLarge("SIZE_INVALID", f"manifest exceeds {cfg.manifest_max_bytes} bytes")
    parsed = formats.parse(body, content_type)
    digest = digest_of(body, algorithm_of(reference) if is_digest(reference) else "sha256")
    if is_digest(reference) and digest != reference:
        raise DomainError("DIGEST_INVALID", detail={"expected": reference, "actual": digest})
    tags = list(dict.fromkeys([*([] if is_digest(reference) else [reference]), *extra_tags]))
    config_digest = artifacts.config_digest(parsed)
    config = objects.get(objects.blob_key(config_digest)) if config_digest else None
    stored_body = StoredBody(body, None)
    if len(body) > cfg.manifest_inline_max_bytes:
        stored_body = StoredBody(None, objects.manifest_key(digest))
        objects.put(objects.manifest_key(digest), body)
    for _ in range(_WRITE_ATTEMPTS):
        state = _state(name, digest, tags, parsed)
        try:
            _write(name, digest, tags, parsed, state, artifacts.describe(parsed, len(body), config, _child_ids(state)),
                   len(body), stored_body)
        except store.ConditionFailed:
            continue  # pushed or deleted concurrently: read the new state and write again
        return digest, parsed.subject.digest if parsed.subject else None
    raise DomainError("TOOMANYREQUESTS", f"{name}@{digest} is being changed concurrently; retry")


_WRITE_ATTEMPTS = 8


@dataclass(frozen=True)
class StoredBody:
    """Where a manifest's body is kept: inline, or in S3 when it is too large for its item."""

    inline: bytes | None
    object_key: str | None


def _write(name: str, digest: str, tags: list[str], parsed: formats.ParsedManifest, state: store.PushState,
           info: artifacts.ArtifactInfo, size: int, stored_body: StoredBody) -> None:
    now = clock.iso()
    previous = state.manifest
    record = store.ManifestRecord(
        digest, parsed.media_type, size,
        artifact_id=previous.artifact_id if previous and previous.artifact_id else store.new_artifact_id(),
        created=previous.created if previous and previous.created else now, push_time=now,
        artifact_type=parsed.artifact_type, subject=parsed.subject.digest if parsed.subject else None,
        blobs=[b.digest for b in parsed.blobs], children=[c.digest for c in parsed.children], type=info.type,
        artifact_size=info.size, extra_attrs=json.dumps(info.extra_attrs), annotations=_small_json(parsed.annotations),
        references=json.dumps(info.references), parent_count=previous.parent_count if previous else 0,
        signature_of=_cosign_subject(tags, parsed), body=stored_body.inline, object_key=stored_body.object_key)
    descriptor = json.dumps(_referrer_descriptor(digest, size, parsed)) if parsed.subject else None
    new_children = [c.digest for c in parsed.children] if previous is None else []
    store.write_push(name, record, state, tags, now, descriptor, new_children)


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
MAX_TAGS_PER_PUT = 20


def _state(name: str, digest: str, tags: list[str], parsed: formats.ParsedManifest) -> store.PushState:
    """One BatchGet: the referenced blobs and children (all must exist), and the records a push updates."""
    state = store.push_state(name, digest, tags, [b.digest for b in parsed.blobs], [c.digest for c in parsed.children])
    if state.missing:
        raise DomainError("MANIFEST_BLOB_UNKNOWN", detail={"digests": state.missing})
    return state


def _child_ids(state: store.PushState) -> dict[str, int]:
    return {digest: child.artifact_id for digest, child in state.children.items()}


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
            store.delete_tag(name, reference)
        except store.ConditionFailed as error:
            raise _unknown(reference) from error
        return
    record = store.manifest(name, reference, consistent=True)
    if record is None:
        raise _unknown(reference)
    if record.parent_count > 0:  # Harbor's deleteDeeply refuses a referenced root
        raise DomainError("VIOLATE_FOREIGN_KEY_CONSTRAINT", "the deleting artifact is referenced by others")
    try:
        store.delete_manifest(name, record)
    except store.ConditionFailed as error:
        raise _unknown(reference) from error
    labels.detach_all(name, reference)
    for accessory in accessory_digests(name, reference):
        with contextlib.suppress(DomainError):  # already gone: deleted concurrently
            delete(name, accessory)


def accessory_digests(name: str, digest: str) -> list[str]:
    """Digests of the artifacts about this one: OCI referrers, and a cosign signature tagged sha256-<hex>.sig."""
    found = [referrer.digest for referrer in store.referrers(name, digest)]
    signature = store.tag_target(name, digest.replace(":", "-", 1) + ".sig")
    if signature:
        signed = store.manifest(name, signature)
        if signed and signed.signature_of == digest:
            found.append(signature)
    return found


class TagExists(Conflict):
    def __init__(self, repository: str, tag: str) -> None:
        super().__init__(f"conflict: the tag {tag} already exists in {repository}")


def create_tag(name: str, tag: str, digest: str) -> None:
    """Point a new tag at a stored manifest (Harbor's 'add tag'); TagExists when the name is taken."""
    try:
        store.create_tag(name, tag, digest, clock.iso())
    except store.ConditionFailed as error:
        raise TagExists(name, tag) from error


class ArtifactExists(Conflict):
    def __init__(self, reference: str) -> None:
        super().__init__(f"conflict: the artifact {reference} already exists")


def copy(source: str, digest: str, target: str, tags: list[str]) -> str:
    """Copy an artifact between repositories without moving bytes: link its blobs into the target,
    copy an index's children first, then store the manifest and point each of `tags` at it (Harbor
    copies the source's tags along). ArtifactExists when the target already holds it."""
    if store.manifest(target, digest) is not None:
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
    for digest_of_blob, size in blobs.sizes(source, [b.digest for b in parsed.blobs]).items():
        if not blobs.link(target, digest_of_blob, size):
            raise DomainError("BLOB_UNKNOWN", detail={"digest": digest_of_blob})
    put(target, digest, media_type, body)
