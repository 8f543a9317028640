"""Deleting a project or a user leaves nothing behind that a later project of the same name, or a later
user, could inherit: robots, members, labels, scanner binding, allowlist, audit records."""

from __future__ import annotations

import jwt

from chalicelib.auth import users
from tests.support.client import Client, api
from tests.support.images import make_image
from tests.support.oci import push_image

ALICE = ("alice", "Alice12345")
BOB = ("bob", "Bob123456")
ALL_REPOSITORY_ACTIONS = [{"resource": "repository", "action": a} for a in ("pull", "push", "delete")]


def _users(*accounts: tuple[str, str]) -> None:
    for name, password in accounts:
        users.create_user(name, password)


def test_a_deleted_projects_robot_gets_nothing_of_a_new_project_of_the_same_name(client: Client) -> None:
    _users(ALICE, BOB)
    assert api(client, "POST", "/projects", {"project_name": "p3"}, auth=ALICE).status == 201
    robot = api(client, "POST", "/robots", {"name": "ci", "level": "project", "duration": -1, "permissions": [
        {"kind": "project", "namespace": "p3", "access": ALL_REPOSITORY_ACTIONS}]}, auth=ALICE).json()
    credentials = (robot["name"], robot["secret"])
    assert api(client, "DELETE", "/projects/p3", auth=ALICE).status == 200
    assert api(client, "GET", f"/robots/{robot['id']}").status == 404  # went with its project

    assert api(client, "POST", "/projects", {"project_name": "p3"}, auth=BOB).status == 201
    assert push_image(client, "p3/private", "v1", make_image("bob's"), auth=BOB).status == 201
    assert client.request("GET", "/v2/p3/private/manifests/v1", auth=credentials).status == 401
    other = make_image("planted")
    assert client.request("PUT", "/v2/p3/private/manifests/v1", body=other.manifest, auth=credentials,
                          headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"}).status == 401
    # Unknown credentials are anonymous to the token service: a token that grants nothing.
    token = client.request("GET", "/service/token?scope=repository:p3/private:pull,push", auth=credentials).json()
    assert jwt.decode(token["token"], options={"verify_signature": False})["access"][0]["actions"] == []


def test_a_system_robot_granted_on_a_project_does_not_follow_its_name(client: Client) -> None:
    _users(BOB)
    api(client, "POST", "/projects", {"project_name": "p3"})
    robot = api(client, "POST", "/robots", {"name": "sys", "level": "system", "duration": -1, "permissions": [
        {"kind": "project", "namespace": "p3", "access": ALL_REPOSITORY_ACTIONS}]}).json()
    credentials = (robot["name"], robot["secret"])
    assert push_image(client, "p3/app", "v1", make_image("old"), auth=credentials).status == 201
    assert api(client, "DELETE", "/projects/p3/repositories/app").status == 200
    assert api(client, "DELETE", "/projects/p3").status == 200
    api(client, "POST", "/projects", {"project_name": "p3"}, auth=BOB)
    assert push_image(client, "p3/app", "v1", make_image("new"), auth=BOB).status == 201
    assert client.request("GET", "/v2/p3/app/manifests/v1", auth=credentials).status == 401


def test_a_new_project_of_a_deleted_ones_name_starts_empty(client: Client) -> None:
    _users(ALICE, BOB)
    api(client, "POST", "/projects", {"project_name": "p3", "metadata": {"auto_scan": "true"}}, auth=ALICE)
    assert api(client, "POST", "/projects/p3/members", {"role_id": 2, "member_user": {"username": "bob"}},
               auth=ALICE).status == 201
    assert api(client, "POST", "/labels", {"name": "old", "scope": "p", "project_id": _id(client, "p3")},
               auth=ALICE).status == 201
    assert api(client, "PUT", "/projects/p3", {"cve_allowlist": {"items": [{"cve_id": "CVE-2099-0003"}]}},
               auth=ALICE).status == 200
    assert push_image(client, "p3/app", "v1", make_image("alice's"), auth=ALICE).status == 201
    assert api(client, "DELETE", "/projects/p3/repositories/app", auth=ALICE).status == 200
    assert api(client, "GET", "/projects/p3/logs", auth=ALICE).header("X-Total-Count") == "3"
    old_id = _id(client, "p3")
    assert api(client, "DELETE", "/projects/p3", auth=ALICE).status == 200

    assert api(client, "POST", "/projects", {"project_name": "p3"}, auth=BOB).status == 201
    new_id = _id(client, "p3")
    assert new_id != old_id
    logs = api(client, "GET", "/projects/p3/logs", auth=BOB)
    assert [(r["operation"], r["resource_type"]) for r in logs.json()] == [("create", "project")]
    assert logs.header("X-Total-Count") == "1"
    members = api(client, "GET", "/projects/p3/members", auth=BOB).json()
    assert [(m["entity_name"], m["role_id"]) for m in members] == [("bob", 1)]
    assert api(client, "GET", "/projects/p3", auth=ALICE).status == 403  # alice is no member of bob's p3
    assert api(client, "GET", f"/labels?scope=p&project_id={new_id}", auth=BOB).json() == []
    project = api(client, "GET", "/projects/p3", auth=BOB).json()
    assert project["cve_allowlist"]["items"] == [] and "auto_scan" not in project["metadata"]
    # The old project's records stay in the system log.
    assert any(r["resource"] == "p3/app:v1" for r in api(client, "GET", "/audit-logs").json())


def _id(client: Client, name: str) -> int:
    return api(client, "GET", f"/projects/{name}").json()["project_id"]


def test_a_deleted_user_is_no_longer_a_member(client: Client) -> None:
    _users(ALICE)
    alice_id = api(client, "GET", "/users/current", auth=ALICE).json()["user_id"]
    assert api(client, "POST", "/projects/library/members", {"role_id": 2, "member_user": {"username": "alice"}}
               ).status == 201
    assert api(client, "DELETE", f"/users/{alice_id}").status == 200
    members = api(client, "GET", "/projects/library/members").json()
    assert [m["entity_name"] for m in members] == ["admin"]
    _users(("alice", "Alice67890"))  # the name again: a new account with no role anywhere
    assert api(client, "GET", "/projects?owner=admin", auth=("alice", "Alice67890")).json()[0]["current_user_role_id"] \
        == 0
