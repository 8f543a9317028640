"""What Harbor shows about an artifact, computed once at push: type, size, extra_attrs, references."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from chalicelib import inputs
from chalicelib.registry import formats

IMAGE_CONFIG_TYPES = frozenset({"application/vnd.oci.image.config.v1+json",
                                "application/vnd.docker.container.image.v1+json"})
TYPES_BY_CONFIG = {"application/vnd.cncf.helm.config.v1+json": "CHART",
                   "application/vnd.cnab.config.v1+json": "CNAB"}


@dataclass(frozen=True)
class ArtifactInfo:
    type: str
    size: int
    extra_attrs: dict[str, Any]
    references: list[dict[str, Any]]


def config_digest(parsed: formats.ParsedManifest) -> str | None:
    """The config blob worth reading (an image config), if any."""
    if parsed.blobs and parsed.blobs[0].media_type in IMAGE_CONFIG_TYPES:
        return parsed.blobs[0].digest
    return None


def describe(parsed: formats.ParsedManifest, manifest_size: int, config: bytes | None,
             child_ids: dict[str, int]) -> ArtifactInfo:
    """Harbor's view: an index is an IMAGE whose size adds its children's manifests; an image adds its
    config and layers; extra_attrs come from the image config."""
    if parsed.media_type in formats.INDEX_TYPES:
        references = [{"child_digest": c.digest, "child_id": child_ids.get(c.digest, 0),
                       **({"platform": c.platform} if c.platform else {}),
                       **({"annotations": c.annotations} if c.annotations else {}),
                       **({"urls": c.urls} if c.urls else {})} for c in parsed.children]
        return ArtifactInfo("IMAGE", manifest_size + sum(c.size for c in parsed.children), {}, references)
    config_type = parsed.blobs[0].media_type if parsed.blobs else ""
    artifact_type = "IMAGE" if config_type in IMAGE_CONFIG_TYPES else TYPES_BY_CONFIG.get(config_type, "UNKNOWN")
    return ArtifactInfo(artifact_type, manifest_size + sum(b.size for b in parsed.blobs), _extra_attrs(config), [])


def _extra_attrs(config: bytes | None) -> dict[str, Any]:
    if not config:
        return {}
    try:
        document = inputs.load_json(config)
    except ValueError:  # UnicodeDecodeError too
        return {}
    if not isinstance(document, dict):
        return {}
    return {key: document[key] for key in ("architecture", "os", "config", "created", "author") if key in document}


def build_history(config: bytes) -> list[dict[str, Any]]:
    """The image config's history, as Harbor's build_history addition returns it."""
    try:
        history = json.loads(config).get("history", [])
    except (ValueError, AttributeError):
        return []
    return history if isinstance(history, list) else []
