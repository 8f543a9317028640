"""The two ends of a copy, with one interface: this registry (its services, no HTTP) and another one
(its /v2/ API). Blobs move as streams of chunks; manifests are small and move whole."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol

from chalicelib.errors import DomainError
from chalicelib.projects import Project, ensure_project, get_project
from chalicelib.registry import blobs, manifests, service
from chalicelib.registry.digests import is_digest
from chalicelib.replication.remote import CHUNK_BYTES, Descriptor, RegistryClient
from chalicelib.store import objects
from chalicelib.store.users import get_user

REPLICATOR = "harbor-replication"  # the operator of what replication writes here, in the audit log


class Endpoint(Protocol):
    def descriptor(self, repository: str, reference: str) -> Descriptor | None: ...
    def manifest(self, repository: str, reference: str) -> tuple[Descriptor, bytes]: ...
    def put_manifest(self, repository: str, reference: str, media_type: str, body: bytes) -> None: ...
    def has_blob(self, repository: str, digest: str) -> bool: ...
    def mount(self, repository: str, digest: str, source: str) -> bool: ...
    def read_blob(self, repository: str, digest: str) -> Iterator[bytes]: ...
    def write_blob(self, repository: str, digest: str, chunks: Iterable[bytes]) -> int: ...
    def delete(self, repository: str, digest: str) -> bool: ...


class Local:
    """This registry: what replication writes here is pushed as any push is (audit, scan on push, events)."""

    def __init__(self, operator: str = REPLICATOR) -> None:
        self.operator = operator

    def descriptor(self, repository: str, reference: str) -> Descriptor | None:
        try:
            found = manifests.get(repository, reference, [], with_body=False)
        except DomainError:
            return None
        return Descriptor(found.digest, found.media_type, found.size)

    def manifest(self, repository: str, reference: str) -> tuple[Descriptor, bytes]:
        found = manifests.get(repository, reference, [], with_body=True)
        return Descriptor(found.digest, found.media_type, found.size), found.body or b""

    def put_manifest(self, repository: str, reference: str, media_type: str, body: bytes) -> None:
        service.push_manifest(self.project(repository.split("/", 1)[0]), repository, reference, media_type, body, [],
                             self.operator, "")

    def has_blob(self, repository: str, digest: str) -> bool:
        return blobs.sizes(repository, [digest]) != {}

    def mount(self, repository: str, digest: str, source: str) -> bool:
        """Any copy of the blob here will do: blobs are stored once per digest."""
        size = blobs.stored_size(digest)
        return size is not None and blobs.link(repository, digest, size)

    def read_blob(self, repository: str, digest: str) -> Iterator[bytes]:
        if not self.has_blob(repository, digest):
            raise DomainError("BLOB_UNKNOWN", detail={"digest": digest})
        return objects.stream(objects.blob_key(digest), CHUNK_BYTES)

    def write_blob(self, repository: str, digest: str, chunks: Iterable[bytes]) -> int:
        return blobs.store_stream(repository, digest, chunks)

    def delete(self, repository: str, digest: str) -> bool:
        project = get_project(repository.split("/", 1)[0])
        if project is None or self.descriptor(repository, digest) is None:
            return False
        service.delete_artifact(project, repository, digest, self.operator)
        return True

    @staticmethod
    def project(name: str) -> Project:
        """The project, created (owned by the admin, private) when missing, as Harbor's replication does."""
        project = get_project(name)
        if project is None:
            admin = get_user("admin")
            project = ensure_project(name, owner_id=admin.user_id if admin else 1, owner_name="admin", public=False)
        return project


class Remote:
    """Another registry through its /v2/ API."""

    def __init__(self, client: RegistryClient, max_request_bytes: int | None) -> None:
        self.client = client
        self.max_request_bytes = max_request_bytes

    def descriptor(self, repository: str, reference: str) -> Descriptor | None:
        return self.client.head_manifest(repository, reference)

    def manifest(self, repository: str, reference: str) -> tuple[Descriptor, bytes]:
        return self.client.get_manifest(repository, reference)

    def put_manifest(self, repository: str, reference: str, media_type: str, body: bytes) -> None:
        self.client.put_manifest(repository, reference, media_type, body)

    def has_blob(self, repository: str, digest: str) -> bool:
        return self.client.blob_exists(repository, digest)

    def mount(self, repository: str, digest: str, source: str) -> bool:
        location = self.client.mount_blob(repository, digest, source)
        if location is None:
            return True
        self.client.request("DELETE", location)  # the upload the registry opened instead is not wanted
        return False

    def read_blob(self, repository: str, digest: str) -> Iterator[bytes]:
        answer = self.client.open_blob(repository, digest)
        try:
            yield from answer.stream(CHUNK_BYTES)
        finally:
            answer.release_conn()

    def write_blob(self, repository: str, digest: str, chunks: Iterable[bytes]) -> int:
        return self.client.push_blob(repository, digest, chunks, max_request_bytes=self.max_request_bytes)

    def delete(self, repository: str, digest: str) -> bool:
        target = digest if is_digest(digest) else (self.descriptor(repository, digest) or Descriptor("", "", 0)).digest
        return bool(target) and self.client.delete_manifest(repository, target)
