"""Synthetic images in an OCI image layout (what skopeo reads with `oci:<dir>:<tag>`)."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
from dataclasses import dataclass
from pathlib import Path

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def layer_tar(files: dict[str, bytes]) -> bytes:
    """A gzipped tar of the given files (mtime 0, so the digest is stable)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for name, content in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return gzip.compress(raw.getvalue(), mtime=0)


def config_for(layers: list[bytes]) -> bytes:
    diff_ids = [sha256(gzip.decompress(layer)) for layer in layers]
    return json.dumps({"architecture": "amd64", "os": "linux",
                       "config": {"Cmd": ["/bin/sh"]},
                       "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()


@dataclass
class Image:
    config: bytes
    layers: list[bytes]

    @property
    def manifest(self) -> bytes:
        return json.dumps({
            "schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": sha256(self.config), "size": len(self.config)},
            "layers": [{"mediaType": OCI_LAYER, "digest": sha256(x), "size": len(x)} for x in self.layers],
        }).encode()

    @property
    def digest(self) -> str:
        return sha256(self.manifest)


def make_image(seed: str, layer_bytes: int = 1024) -> Image:
    """An image with one layer holding `layer_bytes` of random (incompressible) data."""
    layers = [layer_tar({f"data/{seed}.bin": os.urandom(layer_bytes), "etc/seed": seed.encode()})]
    return Image(config_for(layers), layers)


def write_layout(directory: Path, images: dict[str, Image]) -> Path:
    """Write images into an OCI layout, each under its tag (org.opencontainers.image.ref.name)."""
    blobs = directory / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)
    entries = []
    for tag, image in images.items():
        for blob in [image.config, *image.layers, image.manifest]:
            (blobs / sha256(blob).split(":")[1]).write_bytes(blob)
        entries.append({"mediaType": OCI_MANIFEST, "digest": image.digest, "size": len(image.manifest),
                        "annotations": {"org.opencontainers.image.ref.name": tag}})
    (directory / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    (directory / "index.json").write_text(json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX,
                                                      "manifests": entries}))
    return directory


def read_layout_blob(directory: Path, digest: str) -> bytes:
    return (directory / "blobs" / "sha256" / digest.split(":")[1]).read_bytes()
