"""Copying one artifact between two endpoints, as Harbor's image transfer does: index children first,
then each blob the destination lacks (a HEAD first, then a mount from where this copy already put it,
else a stream), then the manifest by digest and under each tag. Digests never change: manifests move
byte for byte."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chalicelib.replication.endpoints import Endpoint
    from chalicelib.replication.remote import Descriptor


@dataclass
class Transfer:
    """One task's copy: its two ends, what it did, and where its blobs already are on the destination."""

    source: Endpoint
    destination: Endpoint
    log: Callable[[str], None]
    speed_kb: int = 0  # per task, 0 unlimited (the policy's speed)
    blobs_sent: int = 0
    blobs_skipped: int = 0
    bytes_sent: int = 0
    # where this execution already put a blob on the destination (the task's own, then its siblings')
    placed: dict[str, str] = field(default_factory=dict)
    recall: Callable[[str], str | None] = lambda digest: None
    remember: Callable[[str, str], None] = lambda digest, repository: None

    def artifact(self, source_repository: str, reference: str, destination_repository: str, tags: list[str], *,
                 override: bool) -> bool:
        """Copy an artifact under its tags (none: by digest only). False when override is off and the
        destination holds something else under a tag."""
        descriptor, body = self.source.manifest(source_repository, reference)
        wanted = []
        for tag in tags or [descriptor.digest]:
            present = self.destination.descriptor(destination_repository, tag)
            if present is None:
                wanted.append(tag)
            elif present.digest != descriptor.digest:
                if not override:
                    self.log(f"{destination_repository}:{tag} exists with another digest and override is off: "
                             "skipped")
                    return False
                wanted.append(tag)
        if not wanted:
            self.log(f"{destination_repository}@{descriptor.digest} is already there")
            return True
        self._content(source_repository, destination_repository, descriptor, body)
        for tag in wanted:
            self.destination.put_manifest(destination_repository, tag, descriptor.media_type, body)
        self.log(f"copied {source_repository}@{descriptor.digest} to {destination_repository} as "
                 f"{', '.join(wanted)}")
        return True

    def _content(self, source_repository: str, destination_repository: str, descriptor: Descriptor,
                 body: bytes) -> None:
        document: dict[str, Any] = json.loads(body)
        for child in document.get("manifests") or []:
            if self.destination.descriptor(destination_repository, child["digest"]) is None:
                child_descriptor, child_body = self.source.manifest(source_repository, child["digest"])
                self._content(source_repository, destination_repository, child_descriptor, child_body)
                self.destination.put_manifest(destination_repository, child["digest"], child_descriptor.media_type,
                                              child_body)
        config = document.get("config")
        for blob in ([config] if isinstance(config, dict) else []) + list(document.get("layers") or []):
            if not blob.get("urls"):  # a foreign layer stays where its URLs say
                self._blob(source_repository, destination_repository, blob["digest"])

    def _blob(self, source_repository: str, destination_repository: str, digest: str) -> None:
        elsewhere = self.placed.get(digest) or self.recall(digest)
        if self.destination.has_blob(destination_repository, digest) or (
                elsewhere and elsewhere != destination_repository
                and self.destination.mount(destination_repository, digest, elsewhere)):
            self.blobs_skipped += 1
        else:
            self.bytes_sent += self.destination.write_blob(
                destination_repository, digest, self._paced(self.source.read_blob(source_repository, digest)))
            self.blobs_sent += 1
            self.remember(digest, destination_repository)
        self.placed[digest] = destination_repository

    def _paced(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        """The stream at no more than the policy's speed (KB/s)."""
        if not self.speed_kb:
            yield from chunks
            return
        started, sent = time.monotonic(), 0
        for chunk in chunks:
            yield chunk
            sent += len(chunk)
            ahead = sent / (self.speed_kb * 1024) - (time.monotonic() - started)
            if ahead > 0:
                time.sleep(ahead)
