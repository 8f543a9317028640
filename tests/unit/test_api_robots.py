"""Robot accounts: creation with a secret shown once, Basic auth on /v2/, /service/token and the API,
permissions per project, disable, refresh, expiry."""

from __future__ import annotations

import jwt

from tests.support.client import Client, api
from tests.support.images import make_image
from tests.support.oci import push_image

PULL_PUSH = [{"resource": "repository", "action": "pull"}, {"resource": "repository", "action": "push"}]


def _robot(client: Client, name: str, level: str, namespace: str, access: list, **kwargs) -> dict:
    body = {"name": name, "level": level, "duration": -1,
            "permissions": [{"kind": "project", "namespace": namespace, "access": access}]}
    reply = api(client, "POST", "/robots", body, **kwargs)
    assert reply.status == 201, reply.body
    return reply.json()


def test_project_robot_pushes_and_pulls_its_project_only(client: Client) -> None:
    api(client, "POST", "/projects", {"project_name": "team"})
    created = _robot(client, "ci", "project", "team", PULL_PUSH)
    assert created["name"] == "robot$team+ci" and len(created["secret"]) == 32 and created["expires_at"] == -1
    robot = (created["name"], created["secret"])
    image = make_image("robot")
    assert push_image(client, "team/app", "v1", image, auth=robot).status == 201
    assert client.request("GET", "/v2/team/app/manifests/v1", auth=robot).status == 200
    assert client.request("DELETE", "/v2/team/app/manifests/v1", auth=robot).status == 401  # Harbor's v2auth
    assert client.request("POST", "/v2/library/app/blobs/uploads/", auth=robot).status == 401
    assert client.request("GET", "/v2/library/app/tags/list", auth=robot).status == 404  # public: may pull
    token = client.request("GET", "/service/token?scope=repository:team/app:pull,push", auth=robot).json()["token"]
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["sub"] == "robot$team+ci" and claims["access"][0]["actions"] == ["pull", "push"]
    assert api(client, "GET", "/projects/team/repositories", auth=robot).status == 403  # no list permission
    assert api(client, "GET", "/users/current", auth=robot).status == 401
    assert api(client, "POST", "/projects", {"project_name": "robots-own"}, auth=robot).status == 403
    assert client.request("GET", "/v2/", auth=(created["name"], "wrong")).status == 401


def test_secret_is_shown_once_and_can_be_refreshed(client: Client) -> None:
    created = _robot(client, "sys", "system", "*", [{"resource": "repository", "action": "pull"}])
    assert created["name"] == "robot$sys"
    robot_id = created["id"]
    shown = api(client, "GET", f"/robots/{robot_id}").json()
    assert "secret" not in shown and shown["level"] == "system" and shown["permissions"][0]["namespace"] == "*"
    assert api(client, "GET", "/robots").header("X-Total-Count") == "1"
    refreshed = api(client, "PATCH", f"/robots/{robot_id}", {})
    new_secret = refreshed.json()["secret"]
    assert new_secret != created["secret"]
    assert client.request("GET", "/v2/", auth=(created["name"], created["secret"])).status == 401
    assert client.request("GET", "/v2/", auth=(created["name"], new_secret)).status == 200
    assert api(client, "PATCH", f"/robots/{robot_id}", {"secret": "weak"}).status == 400
    assert api(client, "PATCH", f"/robots/{robot_id}", {"secret": "Chosen1234"}).status == 200
    assert client.request("GET", "/v2/", auth=(created["name"], "Chosen1234")).status == 200


def test_disable_update_and_delete(client: Client) -> None:
    created = _robot(client, "temp", "system", "library", PULL_PUSH)
    robot = (created["name"], created["secret"])
    push_image(client, "library/app", "v1", make_image("d"))
    assert client.request("POST", "/v2/library/app/blobs/uploads/", auth=robot).status == 202
    assert api(client, "PUT", f"/robots/{created['id']}", {"disable": True}).status == 200
    assert client.request("POST", "/v2/library/app/blobs/uploads/", auth=robot).status == 401
    assert api(client, "PUT", f"/robots/{created['id']}", {"disable": False, "duration": 5}).status == 200
    assert api(client, "GET", f"/robots/{created['id']}").json()["expires_at"] > 0
    assert api(client, "DELETE", f"/robots/{created['id']}").status == 200
    assert client.request("POST", "/v2/library/app/blobs/uploads/", auth=robot).status == 401
    assert api(client, "GET", f"/robots/{created['id']}").status == 404


def test_who_may_manage_robots(client: Client) -> None:
    api(client, "POST", "/users", {"username": "owner", "password": "Passw0rd1", "email": "o@example.com"})
    api(client, "POST", "/users", {"username": "dev", "password": "Passw0rd1", "email": "d@example.com"})
    owner, dev = ("owner", "Passw0rd1"), ("dev", "Passw0rd1")
    api(client, "POST", "/projects", {"project_name": "team"}, auth=owner)
    api(client, "POST", "/projects/team/members", {"role_id": 2, "member_user": {"username": "dev"}}, auth=owner)
    body = {"name": "x", "level": "project", "permissions": [
        {"kind": "project", "namespace": "team", "access": PULL_PUSH}]}
    assert api(client, "POST", "/robots", body, auth=dev).status == 403
    assert api(client, "POST", "/robots", {**body, "level": "system"}, auth=owner).status == 403
    created = api(client, "POST", "/robots", body, auth=owner)
    assert created.status == 201
    assert api(client, "GET", "/robots", auth=owner).header("X-Total-Count") == "1"
    assert api(client, "GET", "/robots", auth=dev).header("X-Total-Count") == "1"  # developers may list
    assert api(client, "POST", "/robots", body, auth=owner).status == 409
    bad = {**body, "permissions": [{"kind": "project", "namespace": "nosuch", "access": PULL_PUSH}]}
    assert api(client, "POST", "/robots", bad).status == 404
    assert api(client, "POST", "/robots", {**body, "name": "Bad Name"}).status == 400
