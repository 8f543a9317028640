"""Harbor API: repositories, artifacts, tags and additions, over what the registry stored."""

from __future__ import annotations

import json

from chalicelib.auth import users
from infra.functions import LocalFunctions
from tests.support.client import Client, api
from tests.support.images import OCI_INDEX, OCI_MANIFEST, Image, make_image, sha256
from tests.support.oci import push_cosign_signature, push_image, upload_blob


def _index_body(*images: Image) -> bytes:
    return json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
        {"mediaType": OCI_MANIFEST, "digest": i.digest, "size": len(i.manifest),
         "platform": {"architecture": arch, "os": "linux"}} for i, arch in zip(images, ["amd64", "arm64"], strict=False)
    ]}).encode()


def _index(client: Client, name: str, tag: str, images: list[Image]) -> bytes:
    for image in images:
        push_image(client, name, image.digest, image)
    body = _index_body(*images)
    reply = client.request("PUT", f"/v2/{name}/manifests/{tag}", body=body, headers={"Content-Type": OCI_INDEX})
    assert reply.status == 201
    return body


def test_repositories_list_get_update_delete(client: Client) -> None:
    push_image(client, "library/app", "v1", make_image("a"))
    push_image(client, "library/app", "v2", make_image("b"))
    push_image(client, "library/team/tool", "v1", make_image("c"))
    listed = api(client, "GET", "/projects/library/repositories")
    assert listed.header("X-Total-Count") == "2"
    app = listed.json()[0]
    assert app["name"] == "library/app" and app["artifact_count"] == 2 and app["project_id"] == 1
    assert app["id"] > 0 and app["creation_time"].endswith("Z")
    assert [r["name"] for r in api(client, "GET", "/projects/library/repositories?q=name%3D~tool").json()] == [
        "library/team/tool"]
    nested = api(client, "GET", "/projects/library/repositories/team%252Ftool")
    assert nested.status == 200 and nested.json()["name"] == "library/team/tool"
    assert api(client, "PUT", "/projects/library/repositories/app", {"description": "the app"}).status == 200
    assert api(client, "GET", "/projects/library/repositories/app").json()["description"] == "the app"
    assert api(client, "GET", "/repositories").header("X-Total-Count") == "2"
    assert api(client, "DELETE", "/projects/library/repositories/app").status == 200
    assert api(client, "GET", "/projects/library/repositories/app").status == 404
    assert client.request("GET", "/v2/library/app/manifests/v1").status == 404
    assert client.request("GET", "/v2/library/app/tags/list").error_codes == ["NAME_UNKNOWN"]
    assert api(client, "GET", "/projects/library/repositories/nope").error_codes == ["NOT_FOUND"]


def test_artifact_fields(client: Client) -> None:
    image = make_image("fields")
    push_image(client, "library/app", "v1", image)
    artifacts = api(client, "GET", "/projects/library/repositories/app/artifacts?with_label=true")
    assert artifacts.header("X-Total-Count") == "1"
    artifact = artifacts.json()[0]
    assert artifact["digest"] == image.digest and artifact["type"] == "IMAGE"
    assert artifact["manifest_media_type"] == OCI_MANIFEST
    assert artifact["media_type"] == "application/vnd.oci.image.config.v1+json"
    assert artifact["size"] == len(image.manifest) + len(image.config) + len(image.layers[0])
    assert artifact["extra_attrs"]["architecture"] == "amd64" and artifact["extra_attrs"]["os"] == "linux"
    assert [t["name"] for t in artifact["tags"]] == ["v1"] and artifact["labels"] == []
    assert artifact["tags"][0]["artifact_id"] == artifact["id"]
    assert artifact["addition_links"]["build_history"]["href"].endswith(f"{image.digest}/additions/build_history")
    by_tag = api(client, "GET", "/projects/library/repositories/app/artifacts/v1").json()
    assert by_tag == api(client, "GET", f"/projects/library/repositories/app/artifacts/{image.digest}").json()
    assert "tags" not in api(client, "GET", "/projects/library/repositories/app/artifacts/v1?with_tag=false").json()
    history = api(client, "GET", "/projects/library/repositories/app/artifacts/v1/additions/build_history")
    assert history.status == 200 and history.json() == []
    assert api(client, "GET", "/projects/library/repositories/app/artifacts/v1/additions/readme").status == 404
    assert api(client, "GET", "/projects/library/repositories/app/artifacts/nope").status == 404


def test_index_children_are_references_not_list_entries(client: Client) -> None:
    amd, arm = make_image("amd"), make_image("arm")
    _index(client, "library/multi", "latest", [amd, arm])
    listed = api(client, "GET", "/projects/library/repositories/multi/artifacts").json()
    assert len(listed) == 1
    index = listed[0]
    assert index["manifest_media_type"] == OCI_INDEX
    assert [r["child_digest"] for r in index["references"]] == [amd.digest, arm.digest]
    assert index["references"][1]["platform"] == {"architecture": "arm64", "os": "linux"}
    assert all(r["parent_id"] == index["id"] and r["child_id"] > 0 for r in index["references"])
    assert api(client, "GET", "/projects/library/repositories/multi").json()["artifact_count"] == 3
    push_image(client, "library/multi", "amd-only", amd)  # a tagged child is listed in its own right
    assert api(client, "GET", "/projects/library/repositories/multi/artifacts").header("X-Total-Count") == "2"
    # A child the index references cannot be deleted, by the API or /v2/ (Harbor's 412).
    refused = api(client, "DELETE", f"/projects/library/repositories/multi/artifacts/{amd.digest}")
    assert refused.status == 412 and refused.error_codes == ["VIOLATE_FOREIGN_KEY_CONSTRAINT"]
    assert refused.json()["errors"][0]["message"] == "the deleting artifact is referenced by others"
    assert client.request("DELETE", f"/v2/library/multi/manifests/{arm.digest}").status == 412
    assert client.request("HEAD", f"/v2/library/multi/manifests/{arm.digest}").status == 200
    assert client.request("DELETE", f"/v2/library/multi/manifests/{sha256(_index_body(amd, arm))}").status == 202
    orphans = api(client, "GET", "/projects/library/repositories/multi/artifacts").json()
    assert sorted(a["digest"] for a in orphans) == sorted([amd.digest, arm.digest])  # no parent any more


def test_accessories_are_not_listed(client: Client) -> None:
    image = make_image("signed")
    push_image(client, "library/app", "v1", image)
    upload_blob(client, "library/app", b"{}")
    signature = json.dumps({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "artifactType": "application/vnd.dev.cosign.artifact.sig.v1+json",
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": sha256(b"{}"), "size": 2},
        "layers": [{"mediaType": "application/vnd.oci.empty.v1+json", "digest": sha256(b"{}"), "size": 2}],
        "subject": {"mediaType": OCI_MANIFEST, "digest": image.digest, "size": len(image.manifest)}}).encode()
    client.request("PUT", f"/v2/library/app/manifests/{sha256(signature)}", body=signature,
                   headers={"Content-Type": OCI_MANIFEST})
    assert [a["digest"] for a in api(client, "GET", "/projects/library/repositories/app/artifacts").json()] == [
        image.digest]


def test_artifact_list_filters_and_pages(client: Client) -> None:
    images = [make_image(f"p{i}") for i in range(4)]
    for index, image in enumerate(images):
        push_image(client, "library/app", f"v{index}", image)
    untagged = make_image("untagged")
    push_image(client, "library/app", untagged.digest, untagged)
    newest = api(client, "GET", "/projects/library/repositories/app/artifacts?page_size=2")
    assert newest.header("X-Total-Count") == "5"
    assert newest.json()[0]["digest"] == untagged.digest
    only_untagged = api(client, "GET", "/projects/library/repositories/app/artifacts?q=tags%3Dnil").json()
    assert [a["digest"] for a in only_untagged] == [untagged.digest]
    tagged = api(client, "GET", "/projects/library/repositories/app/artifacts?q=tags%3D~v2").json()
    assert [a["digest"] for a in tagged] == [images[2].digest]


def test_tags_api(client: Client) -> None:
    image = make_image("tags")
    push_image(client, "library/app", "v1", image)
    created = api(client, "POST", "/projects/library/repositories/app/artifacts/v1/tags", {"name": "stable"})
    assert created.status == 201
    assert client.request("GET", "/v2/library/app/manifests/stable").body == image.manifest
    assert api(client, "POST", "/projects/library/repositories/app/artifacts/v1/tags", {"name": "stable"}).status == 409
    assert api(client, "POST", "/projects/library/repositories/app/artifacts/v1/tags", {"name": "-bad"}).status == 400
    tags = api(client, "GET", f"/projects/library/repositories/app/artifacts/{image.digest}/tags")
    assert [t["name"] for t in tags.json()] == ["stable", "v1"] and tags.header("X-Total-Count") == "2"
    assert api(client, "DELETE", "/projects/library/repositories/app/artifacts/v1/tags/stable").status == 200
    assert client.request("GET", "/v2/library/app/manifests/stable").status == 404
    assert api(client, "DELETE", "/projects/library/repositories/app/artifacts/v1/tags/stable").status == 404


def test_artifact_delete_needs_the_right_role(client: Client) -> None:
    image = make_image("del")
    push_image(client, "library/app", "v1", image)
    users.create_user("dev", "Passw0rd1")
    api(client, "POST", "/projects/library/members", {"role_id": 2, "member_user": {"username": "dev"}})
    dev = ("dev", "Passw0rd1")
    assert api(client, "GET", "/projects/library/repositories/app/artifacts", auth=None).status == 200  # public
    assert api(client, "DELETE", "/projects/library/repositories/app/artifacts/v1", auth=dev).status == 403
    assert api(client, "DELETE", "/projects/library/repositories/app/artifacts/v1", auth=None).status == 401
    assert api(client, "DELETE", "/projects/library/repositories/app", auth=dev).status == 403
    assert api(client, "DELETE", "/projects/library/repositories/app/artifacts/v1").status == 200
    assert client.request("GET", f"/v2/library/app/manifests/{image.digest}").status == 404
    assert api(client, "GET", "/projects/library/repositories/app").json()["artifact_count"] == 0


def test_copy_artifacts_between_repositories(client: Client) -> None:
    image = make_image("copy")
    push_image(client, "library/source", "v1", image)
    api(client, "POST", "/projects", {"project_name": "team"})
    copied = api(client, "POST", "/projects/team/repositories/copy/artifacts?from=library/source:v1")
    assert copied.status == 201 and copied.header("Location").endswith(image.digest)
    assert client.request("GET", "/v2/team/copy/manifests/v1").body == image.manifest
    layer = image.layers[0]
    assert client.request("HEAD", f"/v2/team/copy/blobs/{sha256(layer)}").status == 200
    by_digest = api(client, "POST", f"/projects/team/repositories/other/artifacts?from=library/source@{image.digest}")
    assert by_digest.status == 201  # the source's tags come along, as in Harbor 2.6
    assert client.request("GET", "/v2/team/other/tags/list").json()["tags"] == ["v1"]
    assert api(client, "GET", "/projects/team/repositories/other/artifacts/v1").json()["digest"] == image.digest
    again = api(client, "POST", f"/projects/team/repositories/other/artifacts?from=library/source@{image.digest}")
    assert again.status == 409 and again.error_codes == ["CONFLICT"]
    amd, arm = make_image("c-amd"), make_image("c-arm")
    index = _index(client, "library/multi", "latest", [amd, arm])
    assert api(client, "POST", "/projects/team/repositories/multi/artifacts?from=library/multi:latest").status == 201
    assert client.request("GET", "/v2/team/multi/manifests/latest", accept=[OCI_INDEX]).body == index
    assert api(client, "POST", "/projects/team/repositories/x/artifacts?from=library/source:nope").status == 404
    assert api(client, "POST", "/projects/team/repositories/x/artifacts?from=garbage").status == 400


def test_copy_refuses_a_bad_target_name_and_writes_nothing(client: Client) -> None:
    push_image(client, "library/source", "v1", make_image("copy"))
    for target in ("..%252F..%252Flibrary%252Fplanted", "Evil%2520Name%250A", "ok%250A"):
        reply = api(client, "POST", f"/projects/library/repositories/{target}/artifacts?from=library/source:v1")
        assert reply.status == 400 and reply.error_codes == ["BAD_REQUEST"], reply.body
    assert client.request("GET", "/v2/_catalog").json()["repositories"] == ["library/source"]


def test_copy_needs_pull_on_the_source(client: Client) -> None:
    users.create_user("dev", "Passw0rd1")
    api(client, "POST", "/projects", {"project_name": "private"})
    push_image(client, "private/app", "v1", make_image("p"))
    api(client, "POST", "/projects", {"project_name": "mine"})
    api(client, "POST", "/projects/mine/members", {"role_id": 2, "member_user": {"username": "dev"}})
    reply = api(client, "POST", "/projects/mine/repositories/stolen/artifacts?from=private/app:v1",
                auth=("dev", "Passw0rd1"))
    assert reply.status == 403
    assert client.request("GET", "/v2/mine/stolen/manifests/v1").status == 404


def test_pulls_count_and_set_the_pull_time(client: Client, local_functions: LocalFunctions) -> None:
    image = make_image("pulled")
    push_image(client, "library/app", "v1", image)
    assert api(client, "GET", "/projects/library/repositories/app/artifacts/v1").json()["pull_time"] == (
        "0001-01-01T00:00:00.000Z")
    client.request("HEAD", "/v2/library/app/manifests/v1")  # not a pull
    for _ in range(3):
        client.request("GET", "/v2/library/app/manifests/v1")
    local_functions.drain()  # the pulls' bookkeeping is written in batches
    assert api(client, "GET", "/projects/library/repositories/app").json()["pull_count"] == 3
    pulled_at = api(client, "GET", "/projects/library/repositories/app/artifacts/v1").json()["pull_time"]
    assert pulled_at.startswith("20") and pulled_at.endswith("Z")


def test_cosign_signatures_are_accessories_of_their_subject(client: Client) -> None:
    image = make_image("cosigned")
    push_image(client, "library/app", "v1", image)
    signature = push_cosign_signature(client, "library/app", image)
    listed = api(client, "GET", "/projects/library/repositories/app/artifacts?with_signature=true").json()
    assert [a["digest"] for a in listed] == [image.digest]
    assert listed[0]["tags"][0]["signed"] is True
    assert [(a["digest"], a["type"], a["subject_artifact_id"]) for a in listed[0]["accessories"]] == [
        (sha256(signature), "signature.cosign", listed[0]["id"])]
    accessories = api(client, "GET", "/projects/library/repositories/app/artifacts/v1/accessories")
    assert accessories.header("X-Total-Count") == "1"
    copied = api(client, "POST", f"/projects/library/repositories/copy/artifacts?from=library/app@{sha256(signature)}")
    assert copied.status == 403 and copied.error_codes == ["DENIED"]
    assert api(client, "DELETE", "/projects/library/repositories/app/artifacts/v1").status == 200
    assert client.request("GET", f"/v2/library/app/manifests/{sha256(signature)}").status == 404  # went with it
