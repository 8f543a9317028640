"""Proxy-cache projects (Harbor's src/server/middleware/repoproxy and src/controller/proxy): a project
bound to a registry serves `<project>/<upstream repository>` from that registry and keeps what it served.

- A tag is checked with a HEAD upstream (no Docker Hub pull is counted for it): the local copy is served
  when its digest is the upstream's; otherwise the upstream's manifest is served and the artifact is
  stored by a job on the proxy-cache queue (replication/caching.py: its blobs, then the manifest under the tag).
- A manifest by digest, and a blob, is served locally once stored. Tag lists are the upstream's.
- When the upstream cannot be reached, what is stored is served.
- A blob not stored yet is never copied inside the request: the client is sent to the upstream's own
  location for it (its storage's presigned URL, or the registry itself when it needs no credential)
  while the job stores it. Only an upstream that needs a credential and serves blobs itself is
  streamed here, synchronously (docs/limits.md says what that costs).
- Nobody pushes to a proxy-cache project but the job (Harbor's 403 DENIED)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from chalicelib.config import settings
from chalicelib.errors import DomainError
from chalicelib.observability import logger
from chalicelib.projects import Project, update_project
from chalicelib.projects import create as create_plain_project
from chalicelib.registry import blobs, listing, manifests
from chalicelib.registry.digests import is_digest
from chalicelib.replication import registries
from chalicelib.replication.remote import CHUNK_BYTES, REQUEST_TIMEOUT, RegistryClient, RemoteError
from chalicelib.store import queue, retentions

T = TypeVar("T")
OPERATOR = "harbor-proxy-cache"  # the one identity that writes into proxy-cache projects
RETAIN_DAYS_SINCE_LAST_PULL = 7


def _default_retention(project_id: int) -> dict[str, Any]:
    """Harbor's default for proxy-cache projects: keep what was pulled in the last 7 days, checked daily."""
    return {"algorithm": "or", "scope": {"level": "project", "ref": project_id},
            "trigger": {"kind": "Schedule", "settings": {"cron": "0 0 0 * * *"}, "references": {}},
            "rules": [{"id": 1, "priority": 1, "disabled": False, "action": "retain",
                       "template": "nDaysSinceLastPull", "params": {"nDaysSinceLastPull": RETAIN_DAYS_SINCE_LAST_PULL},
                       "tag_selectors": [{"kind": "doublestar", "decoration": "matches", "pattern": "**"}],
                       "scope_selectors": {"repository": [{"kind": "doublestar", "decoration": "repoMatches",
                                                           "pattern": "**"}]}}]}


def create_project(name: str, registry_id: int, *, owner_id: int, owner_name: str, public: bool,
                   extra_metadata: dict[str, str], by_sysadmin: bool) -> Project:
    """A proxy-cache project of the registry (system admins only), its default retention recorded.
    Content trust does not apply to what a proxy serves (Harbor ignores it)."""
    if by_sysadmin:
        registries.get(registry_id)  # NOT_FOUND for an unknown registry
    meta = {k: v for k, v in extra_metadata.items() if k != "enable_content_trust"}
    project = create_plain_project(name, owner_id=owner_id, owner_name=owner_name, public=public,
                                   extra_metadata=meta, by_sysadmin=by_sysadmin, registry_id=registry_id)
    retention_id = retentions.create(_default_retention(project.project_id))
    update_project(project, {"retention_id": str(retention_id)})
    return project


def refuse_push(project: Project, username: str) -> None:
    if project.registry_id and username != OPERATOR:
        raise DomainError("DENIED", f"can not push artifact to a proxy project: {project.name}")


def upstream_repository(project: Project, name: str) -> str:
    return name[len(project.name) + 1:]


def manifest(project: Project, name: str, reference: str, accept: list[str], *,
             with_body: bool) -> manifests.StoredManifest:
    """The manifest a pull of a proxy-cache project gets (module docstring)."""
    local = _local(name, reference, accept, with_body)
    if local is not None and is_digest(reference):
        return local
    client = _client(project)
    upstream = upstream_repository(project, name)
    try:
        found = client.head_manifest(upstream, reference)
    except RemoteError as error:
        if local is not None:
            logger.info("upstream unreachable: served the cached copy", extra={"repository": name, "error": str(error)})
            return local
        raise DomainError("MANIFEST_UNKNOWN", f"the upstream registry could not be reached: {error}",
                          detail={"reference": reference}) from error
    if found is None:  # gone upstream: so is the local tag (Harbor deletes it too)
        if local is not None and not is_digest(reference):
            manifests.delete(name, reference)
        raise DomainError("MANIFEST_UNKNOWN", detail={"reference": reference})
    if local is not None and local.digest == found.digest:
        return local
    if not with_body:  # a HEAD is answered from the upstream's HEAD: no manifest pulled, nothing to store yet
        return manifests.StoredManifest(found.digest, found.media_type, found.size, None, None)
    descriptor, body = client.get_manifest(upstream, found.digest)
    queue.send({"project_id": project.project_id, "repository": name, "digest": descriptor.digest,
                "tag": "" if is_digest(reference) else reference}, queue_url=settings().proxy_cache_queue_url)
    return manifests.StoredManifest(descriptor.digest, descriptor.media_type, len(body), body, None)


def tags(project: Project, name: str, n: int, last: str | None) -> listing.Page:
    """The upstream's tags (a client lists them before it pulls one it has never pulled here); what is
    stored here when the upstream cannot be reached or has no such repository."""
    try:
        upstream_tags = _client(project).tags(upstream_repository(project, name))
    except RemoteError:
        upstream_tags = []
    return listing.page_of(name, upstream_tags, n, last) if upstream_tags else listing.tags(name, n, last)


def _client(project: Project) -> RegistryClient:
    """The upstream's client, with the short timeouts of a request."""
    client = registries.remote(registries.get(project.registry_id)).client
    client.timeout = REQUEST_TIMEOUT
    return client


def _local(name: str, reference: str, accept: list[str], with_body: bool) -> manifests.StoredManifest | None:
    try:
        return manifests.get(name, reference, accept, with_body=with_body)
    except DomainError:
        return None


def _stored(lookup: Callable[[], T]) -> T | None:
    """What a blob read of this registry gives (the request's prefetched link), None when it lacks the blob."""
    try:
        return lookup()
    except DomainError as error:
        if error.code != "BLOB_UNKNOWN":
            raise
        return None


def blob_size(project: Project, name: str, digest: str) -> int:
    """A blob HEAD: the local size, else the upstream's."""
    size = _stored(lambda: blobs.linked_size(name, digest))
    if size is not None:
        return size
    client = _client(project)
    try:
        size = client.blob_size(upstream_repository(project, name), digest)
    except RemoteError:
        size = None
    if size is None:
        raise DomainError("BLOB_UNKNOWN", detail={"digest": digest})
    return size


def blob_url(project: Project, name: str, digest: str) -> str:
    """Where a client gets the blob: this registry's storage once stored, else the upstream's location."""
    stored = _stored(lambda: blobs.download_url(name, digest)[0])
    if stored is not None:
        return stored
    client = _client(project)
    upstream = upstream_repository(project, name)
    try:
        status, location = client.blob_location(upstream, digest)
    except RemoteError as error:
        raise DomainError("BLOB_UNKNOWN", f"the upstream registry could not be reached: {error}",
                          detail={"digest": digest}) from error
    if status == 404:
        raise DomainError("BLOB_UNKNOWN", detail={"digest": digest})
    if status == 307 or not client.credential.basic:
        return location
    # The upstream serves the bytes itself and wants a credential the client does not have: store it now.
    answer = client.open_blob(upstream, digest)
    try:
        blobs.store_stream(name, digest, answer.stream(CHUNK_BYTES))
    finally:
        answer.release_conn()
    return blobs.download_url(name, digest)[0]


def retention(retention_id: int) -> dict[str, Any] | None:
    """A recorded retention policy (today only proxy caches' default one)."""
    return retentions.get(retention_id)
