"""Harbor API: global and project labels, attached to and detached from artifacts."""

from __future__ import annotations

from chalicelib.auth import users
from tests.support.client import Client, api
from tests.support.images import make_image
from tests.support.oci import push_image


def _label(client: Client, body: dict, **kwargs) -> int:
    reply = api(client, "POST", "/labels", body, **kwargs)
    assert reply.status == 201, reply.body
    return int(reply.header("Location").rsplit("/", 1)[1])


def test_global_labels(client: Client) -> None:
    label_id = _label(client, {"name": "prod", "color": "#FF0000", "description": "production", "scope": "g"})
    label = api(client, "GET", f"/labels/{label_id}").json()
    assert {k: label[k] for k in ("name", "color", "description", "scope", "project_id")} == {
        "name": "prod", "color": "#FF0000", "description": "production", "scope": "g", "project_id": 0}
    assert api(client, "POST", "/labels", {"name": "prod", "scope": "g"}).status == 409
    assert api(client, "POST", "/labels", {"name": "", "scope": "g"}).status == 400
    assert api(client, "POST", "/labels", {"name": "x", "color": "red", "scope": "g"}).status == 400
    users.create_user("dev", "Passw0rd1")
    assert api(client, "POST", "/labels", {"name": "y", "scope": "g"}, auth=("dev", "Passw0rd1")).status == 403
    assert api(client, "GET", f"/labels/{label_id}", auth=("dev", "Passw0rd1")).status == 200
    assert api(client, "GET", "/labels?scope=g&name=pro").header("X-Total-Count") == "1"
    assert api(client, "PUT", f"/labels/{label_id}", {"name": "production", "color": "#00FF00"}).status == 200
    assert api(client, "GET", f"/labels/{label_id}").json()["name"] == "production"
    assert api(client, "POST", "/labels", {"name": "prod", "scope": "g"}).status == 201  # old name is free
    assert api(client, "DELETE", f"/labels/{label_id}").status == 200
    assert api(client, "GET", f"/labels/{label_id}").status == 404


def test_project_labels_follow_project_rbac(client: Client) -> None:
    users.create_user("dev", "Passw0rd1")
    api(client, "POST", "/projects/library/members", {"role_id": 2, "member_user": {"username": "dev"}})
    dev = ("dev", "Passw0rd1")
    assert api(client, "POST", "/labels", {"name": "team", "scope": "p", "project_id": 1}, auth=dev).status == 403
    label_id = _label(client, {"name": "team", "scope": "p", "project_id": 1})
    assert api(client, "GET", "/labels?scope=p&project_id=1", auth=dev).json()[0]["id"] == label_id
    assert api(client, "POST", "/labels", {"name": "p", "scope": "p"}).status == 400


def test_attach_and_detach_on_artifacts(client: Client) -> None:
    image = make_image("labelled")
    push_image(client, "library/app", "v1", image)
    label_id = _label(client, {"name": "qa", "scope": "g"})
    base = "/projects/library/repositories/app/artifacts/v1/labels"
    assert api(client, "POST", base, {"id": label_id}).status == 200
    assert api(client, "POST", base, {"id": label_id}).status == 409
    assert api(client, "POST", base, {"id": 9999}).status == 404
    listed = api(client, "GET", "/projects/library/repositories/app/artifacts?with_label=true").json()
    assert [lb["name"] for lb in listed[0]["labels"]] == ["qa"]
    one = api(client, "GET", f"/projects/library/repositories/app/artifacts/{image.digest}?with_label=true").json()
    assert [lb["id"] for lb in one["labels"]] == [label_id]
    assert api(client, "DELETE", f"{base}/{label_id}").status == 200
    assert api(client, "DELETE", f"{base}/{label_id}").status == 404
    api(client, "POST", base, {"id": label_id})
    assert api(client, "DELETE", f"/labels/{label_id}").status == 200  # detaches everywhere
    again = api(client, "GET", "/projects/library/repositories/app/artifacts?with_label=true").json()
    assert again[0]["labels"] == []


def test_project_label_of_another_project_cannot_be_attached(client: Client) -> None:
    api(client, "POST", "/projects", {"project_name": "other"})
    other_label = _label(client, {"name": "theirs", "scope": "p", "project_id": 2})
    push_image(client, "library/app", "v1", make_image("x"))
    reply = api(client, "POST", "/projects/library/repositories/app/artifacts/v1/labels", {"id": other_label})
    assert reply.status == 400
