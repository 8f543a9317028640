"""Manifest formats: which media types we serve and what a well-formed manifest holds."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chalicelib import inputs
from chalicelib.errors import DomainError
from chalicelib.registry.digests import is_digest

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_LIST})
MANIFEST_TYPES = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
SUPPORTED = INDEX_TYPES | MANIFEST_TYPES


@dataclass(frozen=True)
class Descriptor:
    media_type: str
    digest: str
    size: int
    platform: dict[str, Any] | None = None
    annotations: dict[str, str] | None = None
    urls: list[str] | None = None


@dataclass(frozen=True)
class ParsedManifest:
    media_type: str
    blobs: tuple[Descriptor, ...]  # config and layers: must be linked in the repository
    children: tuple[Descriptor, ...]  # manifests of an index: must be in the repository
    subject: Descriptor | None
    artifact_type: str | None
    annotations: dict[str, str] = field(default_factory=dict)


def _invalid(message: str, **detail: Any) -> DomainError:
    return DomainError("MANIFEST_INVALID", message, detail=detail or None)


def _descriptor(raw: Any, where: str) -> Descriptor:
    if not isinstance(raw, dict):
        raise _invalid(f"{where} is not a descriptor")
    media_type, digest, size = raw.get("mediaType"), raw.get("digest"), raw.get("size")
    if not isinstance(media_type, str) or not media_type:
        raise _invalid(f"{where} has no mediaType")
    if not isinstance(digest, str) or not is_digest(digest):
        raise _invalid(f"{where} has an invalid digest", digest=str(digest)[:140])
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise _invalid(f"{where} has an invalid size")
    platform, annotations, urls = raw.get("platform"), raw.get("annotations"), raw.get("urls")
    return Descriptor(media_type, digest, size, platform if isinstance(platform, dict) else None,
                      annotations if isinstance(annotations, dict) else None, urls if isinstance(urls, list) else None)


def _media_type(document: dict[str, Any], content_type: str) -> str:
    declared = document.get("mediaType")
    if declared is not None and not isinstance(declared, str):
        raise _invalid("mediaType must be a string")
    if declared and content_type and declared != content_type:
        raise _invalid("Content-Type does not match the manifest's mediaType",
                       content_type=content_type, media_type=declared)
    media_type = declared or content_type
    if media_type not in SUPPORTED:
        raise _invalid("unsupported manifest media type", media_type=(media_type or "")[:255])
    return media_type


def parse(body: bytes, content_type: str) -> ParsedManifest:
    """Validate a manifest body; MANIFEST_INVALID with the reason when it is not acceptable."""
    try:
        document = inputs.load_json(body)
    except UnicodeDecodeError as error:
        raise _invalid("manifest is not valid UTF-8 JSON") from error
    except ValueError as error:
        raise _invalid(f"manifest is not acceptable JSON: {str(error)[:200]}") from error
    if not isinstance(document, dict):
        raise _invalid("manifest is not a JSON object")
    if document.get("schemaVersion") != 2:
        raise _invalid("schemaVersion must be 2")
    media_type = _media_type(document, content_type.split(";", 1)[0].strip())
    blobs: list[Descriptor] = []
    children: list[Descriptor] = []
    if media_type in INDEX_TYPES:
        manifests = document.get("manifests")
        if not isinstance(manifests, list):
            raise _invalid("an index needs a manifests array")
        children = [_descriptor(m, f"manifests[{i}]") for i, m in enumerate(manifests)]
    else:
        layers = document.get("layers")
        if not isinstance(layers, list):
            raise _invalid("an image manifest needs a layers array")
        blobs = [_descriptor(document.get("config"), "config")]
        blobs += [_descriptor(layer, f"layers[{i}]") for i, layer in enumerate(layers)
                  if not (isinstance(layer, dict) and layer.get("urls"))]  # foreign layers live elsewhere
    subject = _descriptor(document["subject"], "subject") if document.get("subject") is not None else None
    artifact_type = document.get("artifactType")
    if artifact_type is not None and not isinstance(artifact_type, str):
        raise _invalid("artifactType must be a string")
    if artifact_type is None and media_type in MANIFEST_TYPES:
        artifact_type = blobs[0].media_type  # the spec: a manifest's type falls back to its config's
    annotations = document.get("annotations") or {}
    if not isinstance(annotations, dict):
        raise _invalid("annotations must be an object")
    return ParsedManifest(media_type, tuple(blobs), tuple(children), subject, artifact_type,
                          {str(k): str(v) for k, v in annotations.items()})


def accepts(accept_values: list[str], media_type: str) -> bool:
    """Whether the client's Accept headers allow an index/list; a plain manifest is always served."""
    if media_type not in INDEX_TYPES or not accept_values:
        return True
    offered = {part.split(";", 1)[0].strip() for value in accept_values for part in value.split(",")}
    return media_type in offered or "*/*" in offered
