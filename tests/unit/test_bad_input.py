"""Bad input gets a clear 4xx in the right envelope and changes nothing: never a 500, never a write."""

from __future__ import annotations

import json

import pytest

from tests.support.client import Client, Reply, api
from tests.support.images import make_image
from tests.support.oci import push_image, upload_blob

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def _harbor_400(reply: Reply) -> None:
    assert reply.status == 400, reply.body
    assert reply.error_codes == ["BAD_REQUEST"]


@pytest.mark.parametrize(("path", "status"), [
    ("/projects?q=project_id%3D%5B1~abc%5D", 400), ("/projects?q=project_id%3Dabc", 400),
    ("/projects?q=public%3Dmaybe", 400), ("/projects?q=project_id%3D%7B1%20x%7D", 400),
    ("/users?q=user_id%3D%5B1~abc%5D", 400),
    # Text keys compare as text, whatever the value looks like.
    ("/repositories?q=name%3D%5B1~abc%5D", 200), ("/audit-logs?q=op_time%3D%5B1~abc%5D", 200),
    ("/projects/library/repositories/app/artifacts?q=digest%3D%5B1~abc%5D", 200),
    ("/projects/library/repositories/app/artifacts?q=tags%3D%5B1~abc%5D", 200),
])
def test_typed_query_values_are_checked(client: Client, path: str, status: int) -> None:
    push_image(client, "library/app", "v1", make_image("q"))
    reply = api(client, "GET", path)
    assert reply.status == status, reply.body
    if status == 400:
        _harbor_400(reply)


def test_names_tags_and_digests_must_match_whole(client: Client) -> None:
    image = make_image("newline")
    push_image(client, "library/app", "v1", image)
    put = client.request("PUT", "/v2/library/app/manifests/nl%0A", body=image.manifest,
                         headers={"Content-Type": OCI_MANIFEST})
    assert put.status == 400 and put.error_codes == ["MANIFEST_INVALID"]
    assert client.request("GET", f"/v2/library/app/manifests/{image.digest}%0A").status == 400
    assert client.request("GET", "/v2/library/app%0A/tags/list").status == 400
    tag = api(client, "POST", "/projects/library/repositories/app/artifacts/v1/tags", {"name": "t2\n"})
    _harbor_400(tag)
    assert client.request("GET", "/v2/library/app/tags/list").json()["tags"] == ["v1"]
    assert api(client, "POST", "/projects", {"project_name": "p\n"}).status == 400
    assert api(client, "POST", "/robots", {"name": "r\n", "level": "system", "duration": -1, "permissions": [
        {"kind": "project", "namespace": "*", "access": []}]}).status == 400


def test_deep_json_and_numbers_beyond_range_are_refused(client: Client) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    manifest = client.request("PUT", "/v2/library/app/manifests/v1", body=deep, headers={"Content-Type": OCI_MANIFEST})
    assert manifest.status == 400 and manifest.error_codes == ["MANIFEST_INVALID"]
    _harbor_400(client.request("POST", "/api/v2.0/projects", body=b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
                               headers={"Content-Type": "application/json"}))
    layer = b"layer"
    upload_blob(client, "library/app", layer)
    huge = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                       "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                  "digest": "sha256:" + "0" * 64, "size": 10**130},
                       "layers": []}).encode()
    assert client.request("PUT", "/v2/library/app/manifests/v1", body=huge,
                          headers={"Content-Type": OCI_MANIFEST}).status == 400
    robot = {"name": "r", "level": "system", "duration": 10**40, "permissions": [
        {"kind": "project", "namespace": "*", "access": [{"resource": "repository", "action": "pull"}]}]}
    _harbor_400(api(client, "POST", "/robots", robot))
    assert api(client, "GET", "/robots").json() == []
    assert client.request("GET", "/v2/_catalog").json()["repositories"] == []


@pytest.mark.parametrize("n", ["%C2%B2", "-1", "1.5", "99999999999999999999999"])
def test_page_sizes_of_the_registry_lists_are_checked(client: Client, n: str) -> None:
    push_image(client, "library/app", "v1", make_image("n"))
    for path in (f"/v2/_catalog?n={n}", f"/v2/library/app/tags/list?n={n}"):
        reply = client.request("GET", path)
        assert reply.status == 400 and reply.error_codes == ["PAGINATION_NUMBER_INVALID"], reply.body


@pytest.mark.parametrize("raw", ["%C2%B2", "1%0A"])
def test_ids_in_paths_are_ascii_decimals(client: Client, raw: str) -> None:
    for path in (f"/users/{raw}", f"/robots/{raw}", f"/labels/{raw}", f"/export/cve/execution/{raw}"):
        assert api(client, "GET", path).status in (403, 404), path
    assert api(client, "GET", f"/projects/{raw}").status == 404


def test_swagger_booleans_must_be_booleans(client: Client) -> None:
    created = api(client, "POST", "/robots", {"name": "r", "level": "system", "duration": -1, "permissions": [
        {"kind": "project", "namespace": "*", "access": [{"resource": "repository", "action": "pull"}]}]}).json()
    _harbor_400(api(client, "PUT", f"/robots/{created['id']}", {"disable": "false"}))
    assert api(client, "GET", f"/robots/{created['id']}").json()["disable"] is False
    assert client.request("GET", "/v2/", auth=(created["name"], created["secret"])).status == 200
    _harbor_400(api(client, "POST", "/robots", {"name": "s", "level": "system", "duration": -1, "disable": 0,
                                                "permissions": [{"kind": "project", "namespace": "*", "access": []}]}))


def test_a_large_cve_allowlist_is_checked_at_once_and_one_beyond_the_maximum_changes_nothing(client: Client) -> None:
    from chalicelib.allowlists import MAX_ITEMS

    largest = {"items": [{"cve_id": f"CVE-2099-{n:06d}"} for n in range(MAX_ITEMS)]}
    assert api(client, "PUT", "/projects/library", {"cve_allowlist": largest}).status == 200
    assert len(api(client, "GET", "/projects/library").json()["cve_allowlist"]["items"]) == MAX_ITEMS
    assert api(client, "PUT", "/system/CVEAllowlist", largest).status == 200

    before = api(client, "GET", "/projects/library").json()
    beyond = {"items": [*largest["items"], {"cve_id": "CVE-2099-999999"}]}
    refused = api(client, "PUT", "/projects/library", {"metadata": {"auto_scan": "true"}, "cve_allowlist": beyond})
    _harbor_400(refused)
    assert str(MAX_ITEMS) in refused.json()["errors"][0]["message"]
    duplicate = {"items": [*largest["items"][1:], largest["items"][-1]]}
    _harbor_400(api(client, "PUT", "/projects/library", {"metadata": {"auto_scan": "true"},
                                                         "cve_allowlist": duplicate}))
    _harbor_400(api(client, "PUT", "/system/CVEAllowlist", beyond))
    long_ids = {"items": [{"cve_id": f"CVE-{n:05d}-" + "x" * 240} for n in range(2000)]}  # 500,000 characters
    _harbor_400(api(client, "PUT", "/projects/library", {"cve_allowlist": long_ids}))
    after = api(client, "GET", "/projects/library").json()
    assert after["metadata"] == before["metadata"] and after["cve_allowlist"] == before["cve_allowlist"]
