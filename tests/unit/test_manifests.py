"""Manifest PUT/GET/HEAD/DELETE for every supported format, validation, tags and referrers."""

from __future__ import annotations

import hashlib
import json

import pytest

from tests.support.client import Client
from tests.support.images import OCI_INDEX, OCI_MANIFEST, Image, make_image, sha256
from tests.support.oci import push_image, upload_blob

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"


def _put(client: Client, name: str, reference: str, body: bytes, media_type: str, **kwargs) -> object:
    return client.request("PUT", f"/v2/{name}/manifests/{reference}", body=body,
                          headers={"Content-Type": media_type}, **kwargs)


def _docker_manifest(client: Client, name: str, image: Image) -> bytes:
    for blob in [image.config, *image.layers]:
        upload_blob(client, name, blob)
    return json.dumps({
        "schemaVersion": 2, "mediaType": DOCKER_MANIFEST,
        "config": {"mediaType": DOCKER_CONFIG, "digest": sha256(image.config), "size": len(image.config)},
        "layers": [{"mediaType": DOCKER_LAYER, "digest": sha256(x), "size": len(x)} for x in image.layers],
    }).encode()


def _index(media_type: str, children: list[tuple[str, bytes]], platform_arch: list[str]) -> bytes:
    return json.dumps({"schemaVersion": 2, "mediaType": media_type, "manifests": [
        {"mediaType": child_type, "digest": sha256(body), "size": len(body),
         "platform": {"architecture": arch, "os": "linux"}}
        for (child_type, body), arch in zip(children, platform_arch, strict=True)]}).encode()


def test_oci_image_by_tag_and_digest(client: Client) -> None:
    image = make_image("one")
    reply = push_image(client, "library/app", "v1", image)
    assert reply.status == 201
    assert reply.header("Docker-Content-Digest") == image.digest
    assert reply.header("Location") == f"/v2/library/app/manifests/{image.digest}"
    for reference in ("v1", image.digest):
        got = client.request("GET", f"/v2/library/app/manifests/{reference}", accept=[OCI_MANIFEST])
        assert got.status == 200
        assert got.body == image.manifest
        assert got.header("Content-Type") == OCI_MANIFEST
        assert got.header("Docker-Content-Digest") == image.digest
        assert got.header("ETag") == f'"{image.digest}"'
        assert got.header("Content-Length") == str(len(image.manifest))
        head = client.request("HEAD", f"/v2/library/app/manifests/{reference}")
        assert head.status == 200 and head.body == b""
        assert head.header("Content-Length") == str(len(image.manifest))
        assert head.header("Docker-Content-Digest") == image.digest


def test_docker_schema2_manifest_and_manifest_list(client: Client) -> None:
    amd, arm = make_image("amd"), make_image("arm")
    children = []
    for image, tag in ((amd, "amd"), (arm, "arm")):
        body = _docker_manifest(client, "library/multi", image)
        assert _put(client, "library/multi", tag, body, DOCKER_MANIFEST).status == 201
        children.append((DOCKER_MANIFEST, body))
    listing = _index(DOCKER_LIST, children, ["amd64", "arm64"])
    assert _put(client, "library/multi", "latest", listing, DOCKER_LIST).status == 201
    got = client.request("GET", "/v2/library/multi/manifests/latest", accept=[DOCKER_LIST, DOCKER_MANIFEST])
    assert got.body == listing and got.header("Content-Type") == DOCKER_LIST


def test_oci_index_and_accept_negotiation(client: Client) -> None:
    one, two = make_image("i1"), make_image("i2")
    for image in (one, two):
        push_image(client, "library/idx", image.digest, image)
    index = _index(OCI_INDEX, [(OCI_MANIFEST, one.manifest), (OCI_MANIFEST, two.manifest)], ["amd64", "arm64"])
    assert _put(client, "library/idx", "multi", index, OCI_INDEX).status == 201
    refused = client.request("GET", "/v2/library/idx/manifests/multi", accept=[OCI_MANIFEST])
    assert refused.status == 404 and refused.error_codes == ["MANIFEST_UNKNOWN"]
    accepted = client.request("GET", "/v2/library/idx/manifests/multi", accept=[f"{OCI_MANIFEST}, {OCI_INDEX}"])
    assert accepted.status == 200 and accepted.body == index


def test_index_with_missing_child_is_refused(client: Client) -> None:
    absent = make_image("absent")
    index = _index(OCI_INDEX, [(OCI_MANIFEST, absent.manifest)], ["amd64"])
    reply = _put(client, "library/idx", "broken", index, OCI_INDEX)
    assert reply.status == 400 and reply.error_codes == ["MANIFEST_BLOB_UNKNOWN"]
    assert reply.json()["errors"][0]["detail"]["digests"] == [absent.digest]


def test_manifest_with_missing_blob_stores_nothing(client: Client) -> None:
    image = make_image("missing")
    upload_blob(client, "library/app", image.config)  # the layer is never uploaded
    reply = _put(client, "library/app", "v1", image.manifest, OCI_MANIFEST)
    assert reply.status == 400 and reply.error_codes == ["MANIFEST_BLOB_UNKNOWN"]
    assert reply.json()["errors"][0]["detail"]["digests"] == [sha256(image.layers[0])]
    assert client.request("GET", "/v2/library/app/manifests/v1").error_codes == ["MANIFEST_UNKNOWN"]
    assert client.request("GET", "/v2/library/app/tags/list").error_codes == ["NAME_UNKNOWN"]
    assert "library/app" not in client.request("GET", "/v2/_catalog").json()["repositories"]


@pytest.mark.parametrize(("body", "media_type"), [
    (b"{not json", OCI_MANIFEST),
    (b"[1, 2]", OCI_MANIFEST),
    (b"\xff\xfe{}", OCI_MANIFEST),
    (json.dumps({"schemaVersion": 1, "mediaType": OCI_MANIFEST}).encode(), OCI_MANIFEST),
    (json.dumps({"schemaVersion": 2, "mediaType": "application/x-unknown", "layers": []}).encode(),
     "application/x-unknown"),
    (json.dumps({"schemaVersion": 2, "layers": []}).encode(), "text/plain"),
    (json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "layers": []}).encode(), OCI_INDEX),
    (json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": {"mediaType": "x"},
                 "layers": []}).encode(), OCI_MANIFEST),
    (json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                 "config": {"mediaType": "x", "digest": "sha256:abc", "size": 1}, "layers": []}).encode(),
     OCI_MANIFEST),
    (json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": "nope"}).encode(), OCI_INDEX),
])
def test_invalid_manifests_are_refused_and_store_nothing(client: Client, body: bytes, media_type: str) -> None:
    reply = _put(client, "library/app", "bad", body, media_type)
    assert reply.status == 400
    assert reply.error_codes == ["MANIFEST_INVALID"]
    assert client.request("GET", "/v2/library/app/manifests/bad").status == 404


def test_manifest_over_the_size_limit(client: Client) -> None:
    body = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [],
                       "annotations": {"pad": "x" * (4 * 1024 * 1024)}}).encode()
    reply = _put(client, "library/app", "huge", body, OCI_INDEX)
    assert reply.status == 413 and reply.error_codes == ["SIZE_INVALID"]
    assert client.request("GET", "/v2/library/app/manifests/huge").status == 404


def test_manifest_beyond_the_item_limit_is_kept_in_s3_and_served_exactly(client: Client) -> None:
    body = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [],
                       "annotations": {"pad": "y" * 500_000}}).encode()
    assert _put(client, "library/app", "big", body, OCI_INDEX).status == 201
    assert client.request("GET", "/v2/library/app/manifests/big", accept=[OCI_INDEX]).body == body


def test_put_by_digest_checks_the_digest_and_supports_sha512(client: Client) -> None:
    image = make_image("digest")
    for blob in [image.config, *image.layers]:
        upload_blob(client, "library/app", blob)
    wrong = _put(client, "library/app", sha256(b"other"), image.manifest, OCI_MANIFEST)
    assert wrong.status == 400 and wrong.error_codes == ["DIGEST_INVALID"]
    sha512 = "sha512:" + hashlib.sha512(image.manifest).hexdigest()
    reply = _put(client, "library/app", sha512, image.manifest, OCI_MANIFEST)
    assert reply.status == 201 and reply.header("Docker-Content-Digest") == sha512
    assert client.request("GET", f"/v2/library/app/manifests/{sha512}").body == image.manifest


def test_moving_a_tag(client: Client) -> None:
    first, second = make_image("first"), make_image("second")
    push_image(client, "library/app", "latest", first)
    push_image(client, "library/app", "latest", second)
    assert client.request("GET", "/v2/library/app/manifests/latest").body == second.manifest
    assert client.request("GET", f"/v2/library/app/manifests/{first.digest}").body == first.manifest
    assert client.request("GET", "/v2/library/app/tags/list").json()["tags"] == ["latest"]


def test_delete_by_tag_keeps_the_manifest(client: Client) -> None:
    image = make_image("deltag")
    push_image(client, "library/app", "v1", image)
    push_image(client, "library/app", "v2", image)
    assert client.request("DELETE", "/v2/library/app/manifests/v1").status == 202
    assert client.request("GET", "/v2/library/app/manifests/v1").status == 404
    assert client.request("GET", "/v2/library/app/manifests/v2").status == 200
    assert client.request("DELETE", "/v2/library/app/manifests/v1").error_codes == ["MANIFEST_UNKNOWN"]


def test_delete_by_digest_removes_its_tags(client: Client) -> None:
    image, other = make_image("deldigest"), make_image("keep")
    push_image(client, "library/app", "v1", image)
    push_image(client, "library/app", "v2", image)
    push_image(client, "library/app", "other", other)
    assert client.request("DELETE", f"/v2/library/app/manifests/{image.digest}").status == 202
    for reference in ("v1", "v2", image.digest):
        assert client.request("GET", f"/v2/library/app/manifests/{reference}").error_codes == ["MANIFEST_UNKNOWN"]
    assert client.request("GET", "/v2/library/app/tags/list").json()["tags"] == ["other"]
    again = client.request("DELETE", f"/v2/library/app/manifests/{image.digest}")
    assert again.status == 404


def test_unknown_manifest_and_invalid_tag(client: Client) -> None:
    assert client.request("GET", "/v2/library/app/manifests/nope").error_codes == ["MANIFEST_UNKNOWN"]
    bad_tag = _put(client, "library/app", "-bad", make_image("t").manifest, OCI_MANIFEST)
    assert bad_tag.status == 400


def _artifact(subject: Image, artifact_type: str, annotations: dict[str, str]) -> bytes:
    empty = b"{}"
    return json.dumps({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST, "artifactType": artifact_type,
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": sha256(empty), "size": 2},
        "layers": [{"mediaType": "application/vnd.oci.empty.v1+json", "digest": sha256(empty), "size": 2}],
        "subject": {"mediaType": OCI_MANIFEST, "digest": subject.digest, "size": len(subject.manifest)},
        "annotations": annotations,
    }).encode()


def test_referrers(client: Client) -> None:
    image = make_image("subject")
    push_image(client, "library/app", "v1", image)
    upload_blob(client, "library/app", b"{}")
    signature = _artifact(image, "application/vnd.dev.cosign.artifact.sig.v1+json", {"kind": "sig"})
    sbom = _artifact(image, "application/spdx+json", {"kind": "sbom"})
    for artifact in (signature, sbom):
        reply = _put(client, "library/app", sha256(artifact), artifact, OCI_MANIFEST)
        assert reply.status == 201
        assert reply.header("OCI-Subject") == image.digest
    listed = client.request("GET", f"/v2/library/app/referrers/{image.digest}")
    assert listed.status == 200
    assert listed.header("Content-Type") == OCI_INDEX
    assert listed.header("OCI-Filters-Applied") is None
    index = listed.json()
    assert index["schemaVersion"] == 2 and index["mediaType"] == OCI_INDEX
    assert sorted(m["digest"] for m in index["manifests"]) == sorted([sha256(signature), sha256(sbom)])
    sbom_entry = next(m for m in index["manifests"] if m["digest"] == sha256(sbom))
    assert sbom_entry == {"mediaType": OCI_MANIFEST, "digest": sha256(sbom), "size": len(sbom),
                          "artifactType": "application/spdx+json", "annotations": {"kind": "sbom"}}
    filtered = client.request("GET", f"/v2/library/app/referrers/{image.digest}?artifactType=application/spdx%2Bjson")
    assert filtered.header("OCI-Filters-Applied") == "artifactType"
    assert [m["digest"] for m in filtered.json()["manifests"]] == [sha256(sbom)]
    client.request("DELETE", f"/v2/library/app/manifests/{sha256(sbom)}")
    after = client.request("GET", f"/v2/library/app/referrers/{image.digest}").json()
    assert [m["digest"] for m in after["manifests"]] == [sha256(signature)]


def test_referrers_of_unknown_subject_is_an_empty_index(client: Client) -> None:
    reply = client.request("GET", f"/v2/library/app/referrers/{sha256(b'unknown')}")
    assert reply.status == 200 and reply.json()["manifests"] == []
    assert client.request("GET", "/v2/library/app/referrers/notadigest").error_codes == ["DIGEST_INVALID"]


def test_subject_may_be_pushed_before_its_subject_exists(client: Client) -> None:
    image = make_image("later")
    upload_blob(client, "library/app", b"{}")
    artifact = _artifact(image, "application/example", {})
    assert _put(client, "library/app", sha256(artifact), artifact, OCI_MANIFEST).status == 201
    listed = client.request("GET", f"/v2/library/app/referrers/{image.digest}").json()["manifests"]
    assert [m["digest"] for m in listed] == [sha256(artifact)]


def test_deleting_a_subject_deletes_its_referrers(client: Client) -> None:
    image = make_image("subject-gone")
    push_image(client, "library/app", "v1", image)
    upload_blob(client, "library/app", b"{}")
    artifact = _artifact(image, "application/spdx+json", {})
    _put(client, "library/app", sha256(artifact), artifact, OCI_MANIFEST)
    assert client.request("DELETE", f"/v2/library/app/manifests/{image.digest}").status == 202
    assert client.request("GET", f"/v2/library/app/manifests/{sha256(artifact)}").status == 404
    assert client.request("GET", f"/v2/library/app/referrers/{image.digest}").json()["manifests"] == []
