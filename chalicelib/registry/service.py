"""The registry's use cases, as /v2/ and Harbor's API both run them: each changes what the stores hold
through the registry's modules, then publishes what happened (chalicelib/events.py)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from chalicelib import events
from chalicelib.projects import Project
from chalicelib.registry import blobs, listing, manifests, policies, records
from chalicelib.registry.digests import is_digest
from chalicelib.registry.names import project_of
from chalicelib.replication import proxy
from chalicelib.store import cache
from chalicelib.store import manifests as manifest_store
from chalicelib.store.blobs import link_cache_key, link_table_key
from chalicelib.store.configurations import config_cache_key, config_table_key
from chalicelib.store.projects import project_cache_key, project_table_key


@contextmanager
def reading(name: str, kind: str, reference: str, *, pull: bool, configuration: bool) -> Iterator[None]:
    """What a request on repository `name` will read, the project, for a pull the manifest or blob link
    its path names, and the configuration when it will read it: from the cache in one round trip, and
    what the cache does not hold from the table in one BatchGetItem. Other reads go as they come (a
    push must never read what it wrote from before it wrote it)."""
    project = project_of(name)
    reads = {project_cache_key(project): project_table_key(project)}
    if configuration:
        reads[config_cache_key()] = config_table_key()
    if pull and kind == "manifest":
        reads[manifest_store.reference_cache_key(name, reference)] = \
            manifest_store.reference_table_key(name, reference)
    elif pull and kind == "blob":
        reads[link_cache_key(name, reference)] = link_table_key(name, reference)
    with cache.prefetched(reads):
        yield


def push_manifest(project: Project, name: str, reference: str, content_type: str, body: bytes,
                  tags: Sequence[str], username: str, registry_url: str) -> tuple[str, str | None]:
    """Store a manifest under `reference` and `tags`; returns (digest, subject). Only the proxy cache
    itself writes into a proxy-cache project."""
    proxy.refuse_push(project, username)
    digest, subject = manifests.put(name, reference, content_type, body, tags)
    events.publish(events.ArtifactPushed(project, name, reference, digest, username, registry_url))
    return digest, subject


def pull_manifest(project: Project, name: str, reference: str, accept: list[str], *, with_body: bool,
                  skip_policies: bool, username: str) -> manifests.StoredManifest:
    """A manifest the project's pull policies let through (a proxy-cache project's may come from its
    upstream). A GET of a stored manifest is a pull (published); a HEAD is not."""
    if project.registry_id:
        found = proxy.manifest(project, name, reference, accept, with_body=with_body)
    else:
        found = manifests.get(name, reference, accept, with_body=with_body)
    if found.record is None:
        return found
    policies.check_pull(project, name, found.record, skip_policies)
    if with_body:
        events.publish(events.ArtifactPulled(project, name, reference, found.digest, username))
    return found


def delete_reference(project: Project, name: str, reference: str, username: str) -> None:
    """/v2/'s DELETE: by digest the artifact (and its accessories), by tag the tag only."""
    if is_digest(reference):
        delete_artifact(project, name, reference, username)
    else:
        delete_tag(project, name, reference, username)


def delete_artifact(project: Project, name: str, digest: str, username: str) -> None:
    manifests.delete(name, digest)  # its accessories go with it
    events.publish(events.ArtifactDeleted(project, name, digest, username))


def copy_artifact(project: Project, source: str, source_reference: str, target: str,
                  artifact: records.Artifact, username: str) -> str:
    """Copy an artifact (with its tags) into `target`; returns its digest."""
    proxy.refuse_push(project, username)
    digest = manifests.copy(source, artifact.digest, target, [t.name for t in artifact.tags])
    events.publish(events.ArtifactCopied(project, target, source_reference, username))
    return digest


def create_tag(project: Project, name: str, tag: str, digest: str, username: str) -> None:
    proxy.refuse_push(project, username)
    manifests.create_tag(name, tag, digest)
    events.publish(events.TagCreated(project, name, tag, username))


def delete_tag(project: Project, name: str, tag: str, username: str) -> None:
    manifests.delete(name, tag)
    events.publish(events.TagDeleted(project, name, tag, username))


def delete_repository(project: Project, name: str, username: str) -> None:
    records.delete_repository(name)
    events.publish(events.RepositoryDeleted(project, name, username))


def require_pushable(project: Project, username: str) -> None:
    """Blob uploads to a proxy-cache project are refused as its manifests are."""
    proxy.refuse_push(project, username)


def tags(project: Project, name: str, n: int, last: str | None) -> listing.Page:
    return proxy.tags(project, name, n, last) if project.registry_id else listing.tags(name, n, last)


def blob_size(project: Project, name: str, digest: str) -> int:
    return proxy.blob_size(project, name, digest) if project.registry_id else blobs.linked_size(name, digest)


def blob_url(project: Project, name: str, digest: str) -> str:
    return proxy.blob_url(project, name, digest) if project.registry_id else blobs.download_url(name, digest)[0]
