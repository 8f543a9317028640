"""Raw OCI distribution calls, shared by the in-process and end-to-end tests."""

from __future__ import annotations

import json
from typing import Any, Protocol

from tests.support.images import OCI_MANIFEST, Image, sha256


class Requester(Protocol):
    def request(self, method: str, path: str, **kwargs: Any) -> Any: ...


def upload_blob(client: Requester, name: str, data: bytes, **kwargs: Any) -> Any:
    """Monolithic upload: POST ?digest= with the whole blob."""
    return client.request("POST", f"/v2/{name}/blobs/uploads/?digest={sha256(data)}", body=data,
                          headers={"Content-Type": "application/octet-stream"}, **kwargs)


def upload_chunked(client: Requester, name: str, data: bytes, chunk: int, **kwargs: Any) -> Any:
    """POST, PATCH each chunk with Content-Range, PUT ?digest= with no body."""
    started = client.request("POST", f"/v2/{name}/blobs/uploads/", **kwargs)
    assert started.status == 202, started.body
    location = started.header("Location")
    for offset in range(0, len(data), chunk):
        part = data[offset:offset + chunk]
        patched = client.request("PATCH", location, body=part, headers={
            "Content-Type": "application/octet-stream",
            "Content-Range": f"{offset}-{offset + len(part) - 1}"}, **kwargs)
        assert patched.status == 202, patched.body
        assert patched.header("Range") == f"0-{offset + len(part) - 1}"
        location = patched.header("Location")
    return client.request("PUT", f"{location}?digest={sha256(data)}", **kwargs)


def push_image(client: Requester, name: str, reference: str, image: Image, **kwargs: Any) -> Any:
    for blob in [image.config, *image.layers]:
        assert upload_blob(client, name, blob, **kwargs).status == 201
    return client.request("PUT", f"/v2/{name}/manifests/{reference}", body=image.manifest,
                          headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"}, **kwargs)


def push_cosign_signature(client: Requester, name: str, subject: Image, **kwargs: Any) -> bytes:
    """What `cosign sign` pushes: a manifest tagged sha256-<hex>.sig with a simplesigning layer."""
    payload = json.dumps({"critical": {"image": {"docker-manifest-digest": subject.digest}}}).encode()
    config = b"{}"
    for blob in (payload, config):
        assert upload_blob(client, name, blob, **kwargs).status == 201
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha256(config), "size": 2},
        "layers": [{"mediaType": "application/vnd.dev.cosign.simplesigning.v1+json", "digest": sha256(payload),
                    "size": len(payload), "annotations": {"dev.cosignproject.cosign/signature": "MEUCIQ=="}}],
    }).encode()
    tag = subject.digest.replace("sha256:", "sha256-") + ".sig"
    reply = client.request("PUT", f"/v2/{name}/manifests/{tag}", body=manifest,
                           headers={"Content-Type": OCI_MANIFEST}, **kwargs)
    assert reply.status == 201
    return manifest
