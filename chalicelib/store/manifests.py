"""Manifests, tags and referrers, in their repository's partition PK=REPO#<name> (docs/data-model.md):
a manifest at SK=MANIFEST#<digest> (its body inline, or an S3 key when oversized), a tag at SK=TAG#<tag>
(the digest it points to), a referrer entry at SK=REFERRER#<subject>#<digest> (its OCI descriptor).
A push writes its manifest, tags, referrer entry, the repository's catalog record and its children's
parent counts in one transaction, conditional on the manifest being as the push read it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from chalicelib.store import keys, metadata
from chalicelib.store.metadata import ConditionFailed, Item

__all__ = ["ConditionFailed", "Item"]

TRANSACTION_LIMIT = metadata.TRANSACTION_LIMIT


def tag_target(name: str, tag: str) -> str | None:
    """The digest a tag points to."""
    item = metadata.get(keys.repository(name), keys.tag(tag))
    return item["digest"] if item else None


def manifest(name: str, digest: str, *, consistent: bool = False) -> Item | None:
    return metadata.get(keys.repository(name), keys.manifest(digest), consistent)


def manifests(name: str, digests: Iterable[str]) -> list[Item]:
    """The manifests of these digests that exist (one BatchGet per 100)."""
    return metadata.batch_get((keys.repository(name), keys.manifest(d)) for d in digests)


def iter_manifests(name: str, attributes: Iterable[str]) -> Iterator[Item]:
    return metadata.iterate(keys.repository(name), keys.MANIFEST_PREFIX, attributes=attributes)


def iter_tags(name: str) -> Iterator[Item]:
    """Each tag of the repository in name order: `tag`, `digest`, `tag_id`, `updated`."""
    for item in metadata.iterate(keys.repository(name), keys.TAG_PREFIX, attributes=("digest", "tag_id", "updated")):
        yield {**item, "tag": item["SK"][len(keys.TAG_PREFIX):]}


def tag_page(name: str, limit: int, after: str | None) -> tuple[list[str], bool]:
    """Up to `limit` tag names after `after`, and whether more remain."""
    items, more = metadata.query(keys.repository(name), keys.TAG_PREFIX, after=keys.tag(after) if after else None,
                                 limit=limit, attributes=[])
    return [i["SK"][len(keys.TAG_PREFIX):] for i in items], more is not None


def referrers(name: str, subject: str) -> list[Item]:
    """The referrer entries of a subject: `descriptor` (JSON) and `artifact_type`, and `digest`."""
    items, _ = metadata.query(keys.repository(name), keys.referrer(subject))
    return [{**i, "digest": i["SK"].rsplit("#", 1)[1]} for i in items]


@dataclass(frozen=True)
class PushState:
    """What a push reads before it writes, in one BatchGet."""

    manifest: Item | None
    tags: dict[str, Item]  # the tag items that exist, by tag
    catalog: Item | None
    children: dict[str, Item]  # the child manifests that exist, by digest
    missing: list[str]  # referenced blobs and children the repository does not hold


def push_state(name: str, digest: str, tags: list[str], blob_digests: list[str],
               child_digests: list[str]) -> PushState:
    repo = keys.repository(name)
    blobs = {(repo, keys.blob(b)): b for b in blob_digests}
    children = {(repo, keys.manifest(c)): c for c in child_digests}
    own = [(repo, keys.manifest(digest)), (keys.CATALOG, name), *((repo, keys.tag(tag)) for tag in tags)]
    found = {(i["PK"], i["SK"]): i for i in metadata.batch_get([*blobs, *children, *own], consistent=True)}
    missing = sorted(d for k, d in (blobs | children).items() if k not in found)
    return PushState(found.get(own[0]), {tag: found[(repo, keys.tag(tag))] for tag in tags
                                         if (repo, keys.tag(tag)) in found},
                     found.get(own[1]), {d: found[k] for k, d in children.items() if k in found}, missing)


def new_artifact_id() -> int:
    return metadata.next_id("artifact")


def write_push(name: str, digest: str, fields: Item, state: PushState, tags: list[str], now: str,
               referrer: Item | None, new_children: list[str]) -> None:
    """The manifest (`fields`), its tags, its referrer entry (`subject`, `descriptor`, `artifact_type`),
    the catalog record (+1 artifact when new) and +1 on each new child's parent count, at once.
    ConditionFailed when the manifest changed since `state` was read."""
    new = state.manifest is None
    operations = [metadata.put_op({"PK": keys.repository(name), "SK": keys.manifest(digest), **fields},
                                  if_absent=new, must_exist=not new),
                  _catalog_op(name, state.catalog, now, 1 if new else 0)]
    for tag in tags:
        tag_id = (state.tags.get(tag) or {}).get("tag_id") or metadata.next_id("tag")
        operations.append(metadata.put_op({"PK": keys.repository(name), "SK": keys.tag(tag), "digest": digest,
                                           "tag_id": tag_id, "updated": now}))
    if referrer:
        operations.append(metadata.put_op({
            "PK": keys.repository(name), "SK": keys.referrer(referrer["subject"], digest),
            "descriptor": referrer["descriptor"], "artifact_type": referrer["artifact_type"]}))
    room = TRANSACTION_LIMIT - len(operations)  # children that fit beside the manifest's own writes
    metadata.transact(operations + _parent_count_ops(name, new_children[:room], 1))
    for start in range(room, len(new_children), TRANSACTION_LIMIT):
        metadata.transact(_parent_count_ops(name, new_children[start:start + TRANSACTION_LIMIT], 1))


def _catalog_op(name: str, catalog: Item | None, now: str, new_artifacts: int) -> metadata.Write:
    repository_id = int(catalog["repository_id"]) if catalog and "repository_id" in catalog \
        else metadata.next_id("repository")
    return metadata.set_fields_op(keys.CATALOG, name, {"updated": now},
                                  defaults={"created": now, "repository_id": repository_id},
                                  add={"artifact_count": new_artifacts})


def _parent_count_ops(name: str, children: list[str], delta: int) -> list[metadata.Write]:
    """Children of an index count their parents: Harbor lists an untagged child only under its index."""
    return [metadata.set_fields_op(keys.repository(name), keys.manifest(child), {}, add={"parent_count": delta})
            for child in children]


def delete_tag(name: str, tag: str) -> None:
    """ConditionFailed when there is no such tag."""
    metadata.delete(keys.repository(name), keys.tag(tag), must_exist=True)


def delete_manifest(name: str, item: Item) -> None:
    """The manifest, the tags pointing to it, its referrer entry, -1 artifact in the catalog and -1 on
    each child's parent count. The first transaction deletes the manifest only if it is still there:
    of two concurrent deletes, one counts it out; the other gets ConditionFailed."""
    digest, repo = item["digest"], keys.repository(name)
    tags, _ = metadata.query(repo, keys.TAG_PREFIX, attributes=["digest"])
    operations = [metadata.delete_op(repo, keys.manifest(digest), must_exist=True),
                  metadata.set_fields_op(keys.CATALOG, name, {}, add={"artifact_count": -1})]
    operations += [metadata.delete_op(t["PK"], t["SK"]) for t in tags if t["digest"] == digest]
    if item.get("subject"):
        operations.append(metadata.delete_op(repo, keys.referrer(item["subject"], digest)))
    children = [c["digest"] for c in manifests(name, item.get("children") or [])]
    operations += _parent_count_ops(name, children, -1)
    metadata.transact(operations[:TRANSACTION_LIMIT])
    for start in range(TRANSACTION_LIMIT, len(operations), TRANSACTION_LIMIT):
        metadata.transact(operations[start:start + TRANSACTION_LIMIT])


def record_pull(name: str, digest: str, now: str, also: list[metadata.Write]) -> None:
    """+1 on the repository's pull count and the artifact's pull time, with the operations `also`
    (the pull's audit record), at once."""
    metadata.transact([
        *also,
        metadata.set_fields_op(keys.CATALOG, name, {}, add={"pull_count": 1}, must_exist=True),
        metadata.set_fields_op(keys.repository(name), keys.manifest(digest), {"pull_time": now}, must_exist=True),
    ])


def create_tag(name: str, tag: str, digest: str, now: str) -> None:
    """ConditionFailed when the tag exists."""
    metadata.put({"PK": keys.repository(name), "SK": keys.tag(tag), "digest": digest,
                  "tag_id": metadata.next_id("tag"), "updated": now}, if_absent=True)
