"""Harbor API: /projects (CRUD, metadata, summary) and members, with the RBAC matrix on /v2/ too."""

from __future__ import annotations

import pytest

from chalicelib.auth import users
from tests.support.client import Client, api
from tests.support.images import make_image
from tests.support.oci import push_image

PASSWORD = "Passw0rd1"


def _user(name: str) -> tuple[str, str]:
    users.create_user(name, PASSWORD)
    return name, PASSWORD


def _project(client: Client, name: str, auth: tuple[str, str] | None = None, public: bool = False) -> int:
    kwargs = {"auth": auth} if auth else {}
    reply = api(client, "POST", "/projects", {"project_name": name, "metadata": {"public": str(public).lower()}},
                **kwargs)
    assert reply.status == 201, reply.body
    return int(reply.header("Location").rsplit("/", 1)[1])


def _add(client: Client, project: str, username: str, role: int) -> int:
    body = {"role_id": role, "member_user": {"username": username}}
    reply = api(client, "POST", f"/projects/{project}/members", body)
    assert reply.status == 201, reply.body
    return int(reply.header("Location").rsplit("/", 1)[1])


def test_create_get_and_head_project(client: Client) -> None:
    owner = _user("owner")
    project_id = _project(client, "team", owner)
    by_id = api(client, "GET", f"/projects/{project_id}", auth=owner).json()
    by_name = api(client, "GET", "/projects/team", auth=owner).json()
    assert by_id == by_name
    assert by_id["name"] == "team" and by_id["owner_name"] == "owner" and by_id["metadata"] == {"public": "false"}
    assert by_id["current_user_role_id"] == 1 and by_id["current_user_role_ids"] == [1]
    assert by_id["repo_count"] == 0 and by_id["creation_time"].endswith("Z")
    assert api(client, "HEAD", "/projects?project_name=team").status == 200
    assert api(client, "HEAD", "/projects?project_name=none").status == 404
    named = api(client, "POST", "/projects", {"project_name": "named"},
                headers={"X-Resource-Name-In-Location": "true"})
    assert named.header("Location") == "/api/v2.0/projects/named"
    digits = api(client, "POST", "/projects", {"project_name": "123"})
    assert digits.status == 201
    assert api(client, "GET", "/projects/123", headers={"X-Is-Resource-Name": "true"}).json()["name"] == "123"


@pytest.mark.parametrize("body", [
    {"project_name": "Upper"}, {"project_name": "has space"}, {"project_name": ""}, {},
    {"project_name": "ok", "metadata": {"public": "maybe"}}, {"project_name": "ok", "metadata": {"severity": "x"}},
    {"project_name": "ok", "metadata": {"unknown": "true"}}, {"project_name": "ok", "public": "yes"},
])
def test_bad_project_requests_change_nothing(client: Client, body: dict) -> None:
    reply = api(client, "POST", "/projects", body)
    assert reply.status == 400 and reply.error_codes == ["BAD_REQUEST"]
    assert api(client, "GET", "/projects").header("X-Total-Count") == "1"  # library only


def test_duplicate_project_and_anonymous_create(client: Client) -> None:
    duplicate = api(client, "POST", "/projects", {"project_name": "library"})
    assert duplicate.status == 409
    assert duplicate.json()["errors"][0]["message"] == "conflict: The project named library already exists"
    assert api(client, "POST", "/projects", {"project_name": "anon"}, auth=None).status == 401


def test_list_projects_shows_public_and_member_projects(client: Client) -> None:
    alice, bob = _user("alice"), _user("bob")
    _project(client, "alice-private", alice)
    _project(client, "bob-private", bob)
    _project(client, "bob-public", bob, public=True)
    seen_by_alice = api(client, "GET", "/projects", auth=alice)
    assert [p["name"] for p in seen_by_alice.json()] == ["alice-private", "bob-public", "library"]
    assert seen_by_alice.header("X-Total-Count") == "3"
    assert [p["name"] for p in api(client, "GET", "/projects", auth=None).json()] == ["bob-public", "library"]
    assert api(client, "GET", "/projects").header("X-Total-Count") == "4"
    assert [p["name"] for p in api(client, "GET", "/projects?name=bob").json()] == ["bob-private", "bob-public"]
    assert [p["name"] for p in api(client, "GET", "/projects?public=false").json()] == ["alice-private", "bob-private"]
    assert [p["name"] for p in api(client, "GET", "/projects?owner=alice").json()] == ["alice-private"]
    assert [p["name"] for p in api(client, "GET", "/projects?sort=-name&page_size=2").json()] == [
        "library", "bob-public"]
    assert [p["name"] for p in api(client, "GET", "/projects?q=name%3D~private").json()] == [
        "alice-private", "bob-private"]
    assert api(client, "GET", "/projects?sort=creation_time").status == 400


def test_private_projects_hide_from_non_members(client: Client) -> None:
    owner, stranger = _user("owner"), _user("stranger")
    project_id = _project(client, "secret", owner)
    assert api(client, "GET", "/projects/secret", auth=stranger).status == 403
    assert api(client, "GET", f"/projects/{project_id}", auth=None).status == 401
    assert api(client, "GET", "/projects/doesnotexist", auth=stranger).status == 403
    assert api(client, "GET", "/projects/doesnotexist").status == 404  # admin sees that it does not exist


def test_update_metadata_and_summary(client: Client) -> None:
    owner = _user("owner")
    _project(client, "team", owner)
    assert api(client, "PUT", "/projects/team", {"public": True, "metadata": {"auto_scan": "true"}},
               auth=owner).status == 200
    project = api(client, "GET", "/projects/team", auth=None).json()
    assert project["metadata"] == {"public": "true", "auto_scan": "true"}
    assert api(client, "POST", "/projects/team/metadatas", {"severity": "high"}, auth=owner).status == 200
    assert api(client, "GET", "/projects/team/metadatas/severity", auth=owner).json() == {"severity": "high"}
    assert api(client, "PUT", "/projects/team/metadatas/severity", {"severity": "low"}, auth=owner).status == 200
    assert api(client, "DELETE", "/projects/team/metadatas/severity", auth=owner).status == 200
    assert api(client, "GET", "/projects/team/metadatas", auth=owner).json() == {"public": "true", "auto_scan": "true"}
    assert api(client, "DELETE", "/projects/team/metadatas/public", auth=owner).status == 400
    summary = api(client, "GET", "/projects/team/summary", auth=owner).json()
    assert summary["project_admin_count"] == 1 and summary["repo_count"] == 0


def test_delete_only_when_empty(client: Client) -> None:
    owner = _user("owner")
    _project(client, "team", owner)
    push_image(client, "team/app", "v1", make_image("t"), auth=owner)
    assert api(client, "GET", "/projects/team/_deletable", auth=owner).json()["deletable"] is False
    refused = api(client, "DELETE", "/projects/team", auth=owner)
    assert refused.status == 412 and refused.error_codes == ["PRECONDITION"]
    assert api(client, "GET", "/projects/team", auth=owner).json()["repo_count"] == 1
    _project(client, "empty", owner)
    assert api(client, "DELETE", "/projects/empty", auth=owner).status == 200
    assert api(client, "HEAD", "/projects?project_name=empty").status == 404
    assert api(client, "POST", "/projects", {"project_name": "empty"}).status == 201  # the name is free again


def test_members_crud(client: Client) -> None:
    owner, dev = _user("owner"), _user("dev")
    _project(client, "team", owner)
    member_id = _add(client, "team", "dev", 2)
    listed = api(client, "GET", "/projects/team/members", auth=owner)
    assert listed.header("X-Total-Count") == "2"
    entry = next(m for m in listed.json() if m["entity_name"] == "dev")
    assert entry == {"id": member_id, "project_id": entry["project_id"], "entity_name": "dev", "role_name": "developer",
                     "role_id": 2, "entity_id": entry["entity_id"], "entity_type": "u"}
    assert api(client, "GET", "/projects/team/members?entityname=de", auth=owner).header("X-Total-Count") == "1"
    assert api(client, "PUT", f"/projects/team/members/{member_id}", {"role_id": 4}, auth=owner).status == 200
    assert api(client, "GET", f"/projects/team/members/{member_id}", auth=dev).json()["role_name"] == "maintainer"
    assert api(client, "POST", "/projects/team/members", {"role_id": 3, "member_user": {"username": "dev"}}
               ).status == 409
    assert api(client, "POST", "/projects/team/members", {"role_id": 9, "member_user": {"username": "dev"}}
               ).status == 400
    assert api(client, "POST", "/projects/team/members", {"role_id": 3, "member_user": {"username": "ghost"}}
               ).status == 404
    assert api(client, "PUT", f"/projects/team/members/{member_id}", {"role_id": 0}, auth=owner).status == 400
    assert api(client, "DELETE", f"/projects/team/members/{member_id}", auth=owner).status == 200
    assert api(client, "GET", "/projects/team", auth=dev).status == 403


# (role id, may pull, may push, may delete, may list members, may add members)
ROLES = [(1, True, True, True, True, True), (4, True, True, True, True, False), (2, True, True, False, True, False),
         (3, True, False, False, True, False), (5, True, False, False, False, False)]


@pytest.mark.parametrize(("role", "pull", "push", "delete", "list_members", "add_members"), ROLES)
def test_role_matrix_on_v2_and_api(client: Client, role: int, pull: bool, push: bool, delete: bool,
                                   list_members: bool, add_members: bool) -> None:
    owner, member = _user("owner"), _user("member")
    _project(client, "team", owner)
    image = make_image(f"role{role}")
    push_image(client, "team/app", "v1", image, auth=owner)
    _add(client, "team", "member", role)
    _user("newcomer")

    assert (client.request("GET", "/v2/team/app/manifests/v1", auth=member).status == 200) is pull
    assert (client.request("POST", "/v2/team/app/blobs/uploads/", auth=member).status == 202) is push
    token = client.request("GET", "/service/token?scope=repository:team/app:pull", auth=member).json()["token"]
    granted = client.request("GET", "/v2/team/app/tags/list", token=token).status
    assert granted == 200
    assert (api(client, "GET", "/projects/team/members", auth=member).status == 200) is list_members
    add = api(client, "POST", "/projects/team/members", {"role_id": 3, "member_user": {"username": "newcomer"}},
              auth=member)
    assert (add.status == 201) is add_members
    assert (client.request("DELETE", f"/v2/team/app/manifests/{image.digest}", auth=member).status == 202) is delete


def test_search_finds_visible_projects_and_repositories(client: Client) -> None:
    owner = _user("owner")
    _project(client, "secret-stuff", owner)
    _project(client, "open-stuff", owner, public=True)
    push_image(client, "secret-stuff/app", "v1", make_image("s1"), auth=owner)
    push_image(client, "open-stuff/stuff-app", "v1", make_image("s2"), auth=owner)
    anonymous = api(client, "GET", "/search?q=stuff", auth=None).json()
    assert [p["name"] for p in anonymous["project"]] == ["open-stuff"]
    assert [r["repository_name"] for r in anonymous["repository"]] == ["open-stuff/stuff-app"]
    assert anonymous["repository"][0]["project_public"] is True and anonymous["chart"] == []
    mine = api(client, "GET", "/search?q=stuff", auth=owner).json()
    assert [p["name"] for p in mine["project"]] == ["open-stuff", "secret-stuff"]
    assert api(client, "GET", "/search").status == 422
