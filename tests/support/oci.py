"""Raw OCI distribution calls, shared by the in-process and end-to-end tests."""

from __future__ import annotations

from typing import Any, Protocol

from tests.support.images import Image, sha256


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
