"""Repository name grammar, tag lists and the catalog with n/last pagination and Link."""

from __future__ import annotations

import pytest

from tests.support.client import Client
from tests.support.images import make_image
from tests.support.oci import push_image, upload_blob


@pytest.mark.parametrize("name", [
    "library/UPPER", "library//double", "library/../etc", "library/a..b", "library/-dash",
    "single", "library/trailing.", "library/" + "a" * 250, "library/sp%20ace",
])
def test_invalid_names_are_name_invalid_and_store_nothing(client: Client, name: str) -> None:
    for method, path in (("GET", f"/v2/{name}/tags/list"), ("POST", f"/v2/{name}/blobs/uploads/"),
                         ("PUT", f"/v2/{name}/manifests/v1")):
        reply = client.request(method, path, body=b"{}")
        assert reply.status in (400, 404), (method, path)
        assert reply.error_codes == ["NAME_INVALID"], (method, path, reply.body)
    assert client.request("GET", "/v2/_catalog").json()["repositories"] == []


def test_deep_repository_names_work(client: Client) -> None:
    image = make_image("deep")
    assert push_image(client, "library/team/sub.app_x/tool-1", "v1", image).status == 201
    assert client.request("GET", "/v2/library/team/sub.app_x/tool-1/manifests/v1").body == image.manifest


def test_tags_list_pages_with_link(client: Client) -> None:
    image = make_image("tags")
    for tag in ("c", "a", "e", "b", "d"):
        push_image(client, "library/app", tag, image)
    everything = client.request("GET", "/v2/library/app/tags/list")
    assert everything.json() == {"name": "library/app", "tags": ["a", "b", "c", "d", "e"]}
    assert everything.header("Link") is None
    first = client.request("GET", "/v2/library/app/tags/list?n=2")
    assert first.json()["tags"] == ["a", "b"]
    assert first.header("Link") == '</v2/library/app/tags/list?n=2&last=b>; rel="next"'
    second = client.request("GET", "/v2/library/app/tags/list?n=2&last=b")
    assert second.json()["tags"] == ["c", "d"]
    last = client.request("GET", "/v2/library/app/tags/list?n=2&last=d")
    assert last.json()["tags"] == ["e"] and last.header("Link") is None
    assert client.request("GET", "/v2/library/app/tags/list?n=0").json()["tags"] == []


def test_tags_list_errors(client: Client) -> None:
    assert client.request("GET", "/v2/library/none/tags/list").error_codes == ["NAME_UNKNOWN"]
    push_image(client, "library/app", "v1", make_image("x"))
    bad = client.request("GET", "/v2/library/app/tags/list?n=abc")
    assert bad.status == 400 and bad.error_codes == ["PAGINATION_NUMBER_INVALID"]


def test_catalog_pages(client: Client) -> None:
    image = make_image("cat")
    for name in ("library/c", "library/a", "library/b"):
        push_image(client, name, "v1", image)
    upload_blob(client, "library/only-blobs", b"blob")  # a repository appears with its first manifest
    assert client.request("GET", "/v2/_catalog").json() == {"repositories": ["library/a", "library/b", "library/c"]}
    first = client.request("GET", "/v2/_catalog?n=2")
    assert first.json()["repositories"] == ["library/a", "library/b"]
    assert first.header("Link") == '</v2/_catalog?n=2&last=library%2Fb>; rel="next"'
    assert client.request("GET", "/v2/_catalog?n=2&last=library/b").json()["repositories"] == ["library/c"]


def test_unsupported_method(client: Client) -> None:
    reply = client.request("PATCH", "/v2/library/app/manifests/v1", body=b"{}")
    assert reply.status == 405 and reply.error_codes == ["UNSUPPORTED"]
