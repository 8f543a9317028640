"""Manifests, tags and referrers, in their repository's partition PK=REPO#<name> (docs/data-model.md):
a manifest at SK=MANIFEST#<digest> (its body inline, or an S3 key when oversized), a tag at SK=TAG#<tag>
(the digest it points to), a referrer entry at SK=REFERRER#<subject>#<digest> (its OCI descriptor).
A push writes its manifest, tags, referrer entry, the repository's catalog record and its children's
parent counts in one transaction, conditional on the manifest being as the push read it.

A pull reads the manifest a reference names, and a blob's link, through the cache (store/cache.py)
under the scope `repo:<name>`, which every write to the repository's manifests, tags and links
invalidates.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from chalicelib.store import cache, keys, metadata
from chalicelib.store.metadata import ConditionFailed

__all__ = ["ConditionFailed"]

TRANSACTION_LIMIT = metadata.TRANSACTION_LIMIT


@dataclass(frozen=True)
class ManifestRecord:
    """A stored manifest: its body (inline, or the S3 key of an oversized one) and what Harbor's API
    shows of it as an artifact. A listing reads everything but the body."""

    digest: str
    media_type: str
    size: int
    artifact_id: int
    created: str = ""
    push_time: str = ""
    pull_time: str | None = None
    artifact_type: str | None = None
    subject: str | None = None  # the digest an OCI referrer is about
    blobs: list[str] = field(default_factory=list)  # config first, then layers
    children: list[str] = field(default_factory=list)  # an index's manifests
    type: str = "UNKNOWN"  # Harbor's artifact type: IMAGE, CHART, ...
    artifact_size: int | None = None  # the manifest and what it references; None: the manifest's size
    extra_attrs: str = "{}"  # JSON
    annotations: str | None = None  # JSON; None when too large to sit beside the manifest: read the body
    references: str = "[]"  # JSON: an index's children as Harbor lists them
    parent_count: int = 0  # the indexes that list it
    signature_of: str | None = None  # the digest a cosign signature signs
    body: bytes | None = None
    object_key: str | None = None


_LISTED = tuple(f.name for f in dataclasses.fields(ManifestRecord) if f.name != "body")


def _manifest(item: metadata.Item) -> ManifestRecord:
    def text(name: str) -> str | None:
        return item.get(name)

    return ManifestRecord(
        item["digest"], item["media_type"], int(item["size"]), int(item.get("artifact_id", 0)),
        item.get("created", ""), item.get("push_time") or item.get("created", ""), text("pull_time"),
        text("artifact_type"), text("subject"), list(item.get("blobs") or []), list(item.get("children") or []),
        item.get("type", "UNKNOWN"), int(item["artifact_size"]) if "artifact_size" in item else None,
        item.get("extra_attrs") or "{}", text("annotations"), item.get("references") or "[]",
        int(item.get("parent_count") or 0), text("signature_of"),
        bytes(item["body"]) if "body" in item else None, text("object_key"))


def repository_scope(name: str) -> str:
    return f"repo:{name}"


def _encoded(record: ManifestRecord) -> str:
    fields = dataclasses.asdict(record)
    fields["body"] = base64.b64encode(record.body).decode() if record.body is not None else None
    return json.dumps(fields)


def _decoded(raw: str) -> ManifestRecord:
    fields = json.loads(raw)
    body = fields.pop("body")
    return ManifestRecord(**fields, body=base64.b64decode(body) if body is not None else None)


def _manifest_item(name: str, record: ManifestRecord) -> metadata.Item:
    return {**dataclasses.asdict(record), "PK": keys.repository(name), "SK": keys.manifest(record.digest),
            "blobs": record.blobs or None, "children": record.children or None}


@dataclass(frozen=True)
class TagRecord:
    tag_id: int
    name: str
    digest: str
    push_time: str


@dataclass(frozen=True)
class Referrer:
    digest: str
    artifact_type: str
    descriptor: str  # its OCI descriptor, JSON


def tag_target(name: str, tag: str, *, consistent: bool = False) -> str | None:
    """The digest a tag points to."""
    item = metadata.get(keys.repository(name), keys.tag(tag), consistent)
    return item["digest"] if item else None


def reference_cache_key(name: str, reference: str) -> cache.Key:
    return cache.Key(repository_scope(name), f"ref:{name}:{reference}")


def reference_table_key(name: str, reference: str) -> tuple[str, str]:
    """The first item `pulled` reads when the cache does not answer (metadata.prefetched)."""
    return keys.repository(name), keys.manifest(reference) if ":" in reference else keys.tag(reference)


def pulled(name: str, reference: str) -> ManifestRecord | None:
    """The manifest a tag or a digest names, as a pull reads it: through the cache, else a read of the
    tag and one of the manifest."""
    def read(consistent: bool) -> ManifestRecord | None:
        digest = reference if ":" in reference else tag_target(name, reference, consistent=consistent)
        return manifest(name, digest, consistent=consistent) if digest else None

    return cache.read(reference_cache_key(name, reference), read, _encoded, _decoded)


def manifest(name: str, digest: str, *, consistent: bool = False) -> ManifestRecord | None:
    item = metadata.get(keys.repository(name), keys.manifest(digest), consistent)
    return _manifest(item) if item else None


def manifests(name: str, digests: Iterable[str]) -> list[ManifestRecord]:
    """The manifests of these digests that exist (one BatchGet per 100)."""
    return [_manifest(i) for i in metadata.batch_get((keys.repository(name), keys.manifest(d)) for d in digests)]


def iter_manifests(name: str) -> Iterator[ManifestRecord]:
    """Every manifest of the repository, without its body."""
    return map(_manifest, metadata.iterate(keys.repository(name), keys.MANIFEST_PREFIX, attributes=_LISTED))


def iter_tags(name: str) -> Iterator[TagRecord]:
    """Each tag of the repository in name order."""
    for item in metadata.iterate(keys.repository(name), keys.TAG_PREFIX, attributes=("digest", "tag_id", "updated")):
        yield TagRecord(int(item.get("tag_id", 0)), item["SK"][len(keys.TAG_PREFIX):], item["digest"],
                        item.get("updated", ""))


def tag_page(name: str, limit: int, after: str | None) -> tuple[list[str], bool]:
    """Up to `limit` tag names after `after`, and whether more remain."""
    items, more = metadata.query(keys.repository(name), keys.TAG_PREFIX, after=keys.tag(after) if after else None,
                                 limit=limit, attributes=[])
    return [i["SK"][len(keys.TAG_PREFIX):] for i in items], more is not None


def referrers(name: str, subject: str) -> list[Referrer]:
    """The referrer entries of a subject."""
    items, _ = metadata.query(keys.repository(name), keys.referrer(subject))
    return [Referrer(i["SK"].rsplit("#", 1)[1], i.get("artifact_type", ""), i["descriptor"]) for i in items]


@dataclass(frozen=True)
class PushState:
    """What a push reads before it writes, in one BatchGet."""

    manifest: ManifestRecord | None
    tag_ids: dict[str, int]  # the ids of the tags that exist, by tag
    repository_id: int | None  # None: the repository is new
    children: dict[str, ManifestRecord]  # the child manifests that exist, by digest
    missing: list[str]  # referenced blobs and children the repository does not hold


def push_state(name: str, digest: str, tags: list[str], blob_digests: list[str],
               child_digests: list[str]) -> PushState:
    repo = keys.repository(name)
    blobs = {(repo, keys.blob(b)): b for b in blob_digests}
    children = {(repo, keys.manifest(c)): c for c in child_digests}
    own = [(repo, keys.manifest(digest)), (keys.CATALOG, name), *((repo, keys.tag(tag)) for tag in tags)]
    found = {(i["PK"], i["SK"]): i for i in metadata.batch_get([*blobs, *children, *own], consistent=True)}
    missing = sorted(d for k, d in (blobs | children).items() if k not in found)
    stored, catalog = found.get(own[0]), found.get(own[1])
    tag_items = {tag: found[(repo, keys.tag(tag))] for tag in tags if (repo, keys.tag(tag)) in found}
    return PushState(_manifest(stored) if stored else None,
                     {tag: int(item["tag_id"]) for tag, item in tag_items.items() if "tag_id" in item},
                     int(catalog["repository_id"]) if catalog and "repository_id" in catalog else None,
                     {d: _manifest(found[k]) for k, d in children.items() if k in found}, missing)


def new_artifact_id() -> int:
    return metadata.next_id("artifact")


def write_push(name: str, record: ManifestRecord, state: PushState, tags: list[str], now: str,
               referrer_descriptor: str | None, new_children: list[str]) -> None:
    """The manifest, its tags, its referrer entry (when it has a subject), the catalog record (+1
    artifact when new) and +1 on each new child's parent count, at once. ConditionFailed when the
    manifest changed since `state` was read."""
    new = state.manifest is None
    digest = record.digest
    operations = [metadata.put_op(_manifest_item(name, record), if_absent=new, must_exist=not new),
                  _catalog_op(name, state.repository_id, now, 1 if new else 0)]
    for tag in tags:
        tag_id = state.tag_ids.get(tag) or metadata.next_id("tag")
        operations.append(metadata.put_op({"PK": keys.repository(name), "SK": keys.tag(tag), "digest": digest,
                                           "tag_id": tag_id, "updated": now}))
    if record.subject and referrer_descriptor:
        operations.append(metadata.put_op({
            "PK": keys.repository(name), "SK": keys.referrer(record.subject, digest),
            "descriptor": referrer_descriptor, "artifact_type": record.artifact_type or ""}))
    touches = _link_touch_ops(name, list(dict.fromkeys(record.blobs)), now)
    room = TRANSACTION_LIMIT - len(operations)  # links and children that fit beside the manifest's own writes
    for touch in touches[room:]:  # a manifest of more layers than a transaction holds: touched first
        metadata.transact([touch])
    operations += touches[:room]
    room = TRANSACTION_LIMIT - len(operations)
    metadata.transact(operations + _parent_count_ops(name, new_children[:room], 1))
    for start in range(room, len(new_children), TRANSACTION_LIMIT):
        metadata.transact(_parent_count_ops(name, new_children[start:start + TRANSACTION_LIMIT], 1))
    cache.invalidate([repository_scope(name)])


def _link_touch_ops(name: str, blob_digests: list[str], now: str) -> list[metadata.Write]:
    """The pushed manifest's blobs must still be linked, and garbage collection, which deletes a link only
    as it read it, will not delete them (chalicelib/operations/gc.py)."""
    return [metadata.set_fields_op(keys.repository(name), keys.blob(d), {"touched": now}, must_exist=True)
            for d in blob_digests]


def _catalog_op(name: str, repository_id: int | None, now: str, new_artifacts: int) -> metadata.Write:
    return metadata.set_fields_op(keys.CATALOG, name, {"updated": now},
                                  defaults={"created": now,
                                            "repository_id": repository_id or metadata.next_id("repository")},
                                  add={"artifact_count": new_artifacts})


def _parent_count_ops(name: str, children: list[str], delta: int) -> list[metadata.Write]:
    """Children of an index count their parents: Harbor lists an untagged child only under its index."""
    return [metadata.set_fields_op(keys.repository(name), keys.manifest(child), {}, add={"parent_count": delta})
            for child in children]


def delete_tag(name: str, tag: str) -> None:
    """ConditionFailed when there is no such tag."""
    metadata.delete(keys.repository(name), keys.tag(tag), must_exist=True)
    cache.invalidate([repository_scope(name)])


def delete_manifest(name: str, record: ManifestRecord) -> None:
    """The manifest, the tags pointing to it, its referrer entry, -1 artifact in the catalog and -1 on
    each child's parent count. The first transaction deletes the manifest only if it is still there:
    of two concurrent deletes, one counts it out; the other gets ConditionFailed."""
    digest, repo = record.digest, keys.repository(name)
    tags, _ = metadata.query(repo, keys.TAG_PREFIX, attributes=["digest"])
    operations = [metadata.delete_op(repo, keys.manifest(digest), must_exist=True),
                  metadata.set_fields_op(keys.CATALOG, name, {}, add={"artifact_count": -1})]
    operations += [metadata.delete_op(t["PK"], t["SK"]) for t in tags if t["digest"] == digest]
    if record.subject:
        operations.append(metadata.delete_op(repo, keys.referrer(record.subject, digest)))
    children = [c.digest for c in manifests(name, record.children)]
    operations += _parent_count_ops(name, children, -1)
    metadata.transact(operations[:TRANSACTION_LIMIT])
    for start in range(TRANSACTION_LIMIT, len(operations), TRANSACTION_LIMIT):
        metadata.transact(operations[start:start + TRANSACTION_LIMIT])
    cache.invalidate([repository_scope(name)])


def create_tag(name: str, tag: str, digest: str, now: str) -> None:
    """ConditionFailed when the tag exists."""
    metadata.put({"PK": keys.repository(name), "SK": keys.tag(tag), "digest": digest,
                  "tag_id": metadata.next_id("tag"), "updated": now}, if_absent=True)
    cache.invalidate([repository_scope(name)])
