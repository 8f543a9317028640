"""Read models of the registry's metadata for Harbor's API: repositories, artifacts and tags."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from chalicelib.errors import DomainError
from chalicelib.registry import formats, manifests
from chalicelib.registry.names import validate_reference
from chalicelib.store import manifests as store
from chalicelib.store import objects
from chalicelib.store.repositories import (
    Repository,
    delete_repository,
    get_repository,
    iter_repositories,
    set_description,
)

__all__ = ["Repository", "delete_repository", "get_repository", "iter_repositories", "set_description"]

Tag = store.TagRecord


@dataclass(frozen=True)
class Artifact:
    repository: str
    digest: str
    artifact_id: int
    manifest_media_type: str
    media_type: str
    type: str
    size: int
    push_time: str
    pull_time: str | None
    subject: str | None
    parent_count: int
    extra_attrs: dict[str, Any]
    annotations: dict[str, str]
    references: list[dict[str, Any]]
    config_digest: str | None
    signature_of: str | None = None
    tags: list[Tag] = field(default_factory=list)

    @property
    def accessory_of(self) -> str | None:
        """The artifact this one is about (a cosign signature, or an OCI subject): Harbor lists it under
        that artifact's accessories only."""
        return self.signature_of or self.subject

    @property
    def accessory_type(self) -> str:
        signature = self.signature_of or self.media_type == "application/vnd.dev.cosign.artifact.sig.v1+json"
        return "signature.cosign" if signature else "subject.accessory"


def _artifact(name: str, record: store.ManifestRecord, tags: list[Tag]) -> Artifact:
    if record.annotations is None:  # too large to keep beside the manifest: read it from the body
        body = manifests.get(name, record.digest, [], with_body=True).body or b"{}"
        annotations = json.loads(body).get("annotations") or {}
    else:
        annotations = json.loads(record.annotations)
    blobs = record.blobs
    return Artifact(
        name, record.digest, record.artifact_id, record.media_type, record.artifact_type or record.media_type,
        record.type, record.size if record.artifact_size is None else record.artifact_size, record.push_time,
        record.pull_time, record.subject, record.parent_count, json.loads(record.extra_attrs), annotations,
        json.loads(record.references), blobs[0] if blobs and record.media_type in formats.MANIFEST_TYPES else None,
        record.signature_of, tags)


def tags_by_digest(name: str) -> dict[str, list[Tag]]:
    tags: dict[str, list[Tag]] = {}
    for tag in store.iter_tags(name):
        tags.setdefault(tag.digest, []).append(tag)
    return tags


def iter_artifacts(name: str) -> Iterator[Artifact]:
    """Every artifact of the repository with its tags (manifest bodies are not read)."""
    tags = tags_by_digest(name)
    for record in store.iter_manifests(name):
        yield _artifact(name, record, tags.get(record.digest, []))


def listed(artifact: Artifact) -> bool:
    """Whether the artifact is one of its repository's own (Harbor lists an accessory only under its
    subject, and an untagged child of an index only under the index)."""
    return not artifact.accessory_of and not (artifact.parent_count > 0 and not artifact.tags)


def accessories_by_subject(artifacts: list[Artifact]) -> dict[str, list[Artifact]]:
    found: dict[str, list[Artifact]] = {}
    for artifact in artifacts:
        if artifact.accessory_of:
            found.setdefault(artifact.accessory_of, []).append(artifact)
    return found


def accessories_of(name: str, digest: str) -> list[Artifact]:
    """One artifact's accessories, found as deletion finds them (no walk over the repository)."""
    return [_artifact(name, record, []) for record in store.manifests(name, manifests.accessory_digests(name, digest))]


def artifact_of(name: str, record: store.ManifestRecord) -> Artifact:
    """The artifact a manifest already read describes, without its tags (no read)."""
    return _artifact(name, record, [])


def get_artifact(name: str, reference: str) -> Artifact | None:
    try:
        digest = manifests.resolve(name, validate_reference(reference))
    except DomainError:  # a malformed reference or an unknown tag: no such artifact
        return None
    record = store.manifest(name, digest)
    if record is None:
        return None
    return _artifact(name, record, tags_by_digest(name).get(digest, []))


def config_of(artifact: Artifact) -> bytes | None:
    return objects.get(objects.blob_key(artifact.config_digest)) if artifact.config_digest else None
