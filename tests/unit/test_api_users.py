"""Harbor API: /users, /users/current, search, password, admin flag; conventions of section 0."""

from __future__ import annotations

from tests.support.client import Client, api

ALICE = {"username": "alice", "password": "Alice12345", "email": "alice@example.com", "realname": "Alice"}


def _create_alice(client: Client) -> int:
    reply = api(client, "POST", "/users", ALICE)
    assert reply.status == 201, reply.body
    return int(reply.header("Location").rsplit("/", 1)[1])


def test_system_endpoints(client: Client) -> None:
    assert api(client, "GET", "/ping", auth=None).body == b"Pong"
    health = api(client, "GET", "/health", auth=None).json()
    assert health["status"] == "healthy" and {c["name"] for c in health["components"]} >= {"core", "registry"}
    anonymous = api(client, "GET", "/systeminfo", auth=None).json()
    assert anonymous["auth_mode"] == "db_auth" and "external_url" not in anonymous
    info = api(client, "GET", "/systeminfo").json()
    assert info["external_url"] == "http://registry.test" and info["registry_url"] == "registry.test"


def test_request_id_is_echoed_or_made(client: Client) -> None:
    assert api(client, "GET", "/ping", headers={"X-Request-Id": "abc-123"}).header("X-Request-Id") == "abc-123"
    assert api(client, "GET", "/users/999", headers={"X-Request-Id": "err-1"}).header("X-Request-Id") == "err-1"
    assert len(api(client, "GET", "/ping").header("X-Request-Id")) == 36


def test_create_and_read_users(client: Client) -> None:
    user_id = _create_alice(client)
    me = api(client, "GET", "/users/current", auth=("alice", "Alice12345")).json()
    assert me["username"] == "alice" and me["user_id"] == user_id and me["sysadmin_flag"] is False
    assert "password" not in me and not any("password" in key for key in me)
    assert me["creation_time"].endswith("Z")
    assert api(client, "GET", f"/users/{user_id}").json()["email"] == "alice@example.com"
    assert api(client, "GET", f"/users/{user_id}", auth=("alice", "Alice12345")).status == 200


def test_user_creation_is_validated_and_changes_nothing(client: Client) -> None:
    for body in ({**ALICE, "password": "short"}, {**ALICE, "password": "alllowercase1"},
                 {**ALICE, "username": "bad,name"}, {**ALICE, "username": ""}, {**ALICE, "email": "not-an-email"}):
        reply = api(client, "POST", "/users", body)
        assert reply.status == 400 and reply.error_codes == ["BAD_REQUEST"], body
        assert reply.header("Content-Type") == "application/json; charset=utf-8"
    assert api(client, "GET", "/users").header("X-Total-Count") == "1"  # admin only
    _create_alice(client)
    duplicate = api(client, "POST", "/users", ALICE)
    assert duplicate.status == 409 and duplicate.error_codes == ["CONFLICT"]
    same_email = api(client, "POST", "/users", {**ALICE, "username": "alice2"})
    assert same_email.status == 409


def test_only_admins_manage_users(client: Client) -> None:
    _create_alice(client)
    alice = ("alice", "Alice12345")
    assert api(client, "POST", "/users", {**ALICE, "username": "x"}, auth=alice).status == 403
    assert api(client, "GET", "/users", auth=alice).status == 403
    assert api(client, "GET", "/users", auth=None).status == 401
    assert api(client, "GET", "/users/current", auth=None).error_codes == ["UNAUTHORIZED"]
    assert api(client, "GET", "/users/1", auth=alice).status == 403
    assert api(client, "PUT", "/users/1/sysadmin", {"sysadmin_flag": False}, auth=alice).status == 403


def test_list_users_pages_and_filters(client: Client) -> None:
    for index in range(12):
        api(client, "POST", "/users", {"username": f"user{index:02d}", "password": "Passw0rdX",
                                        "email": f"u{index}@example.com"})
    first = api(client, "GET", "/users?page=1&page_size=5")
    assert first.header("X-Total-Count") == "13"
    assert [u["username"] for u in first.json()] == ["admin", "user00", "user01", "user02", "user03"]
    assert first.header("Link") == '</api/v2.0/users?page=2&page_size=5>; rel="next"'
    middle = api(client, "GET", "/users?page=2&page_size=5")
    assert middle.header("Link") == ('</api/v2.0/users?page=1&page_size=5>; rel="prev" , '
                                     '</api/v2.0/users?page=3&page_size=5>; rel="next"')
    fuzzy = api(client, "GET", "/users?q=username%3D~user1")
    assert [u["username"] for u in fuzzy.json()] == ["user10", "user11"]
    either = api(client, "GET", "/users?q=username%3D%7Buser01%20user05%7D")
    assert [u["username"] for u in either.json()] == ["user01", "user05"]
    search = api(client, "GET", "/users/search?username=ser0&page_size=3")
    assert search.json()[0] == {"user_id": search.json()[0]["user_id"], "username": "user00"}
    assert search.header("X-Total-Count") == "10"


def test_list_errors_follow_harbor(client: Client) -> None:
    too_big = api(client, "GET", "/users?page_size=1000")
    assert too_big.status == 422 and too_big.json()["errors"][0]["message"] == (
        "page_size in query should be less than or equal to 100")
    assert api(client, "GET", "/users?page_size=0").status == 422
    assert api(client, "GET", "/users?page=abc").status == 422
    bad_q = api(client, "GET", "/users?q=username")
    assert bad_q.status == 400 and bad_q.json()["errors"][0]["message"] == (
        'the query string must contain "=" and the key/value cannot be empty')
    assert api(client, "GET", "/users?q=username%3D%5Ba").status == 400


def test_password_change(client: Client) -> None:
    user_id = _create_alice(client)
    alice = ("alice", "Alice12345")
    wrong_old = api(client, "PUT", f"/users/{user_id}/password",
                    {"old_password": "nope", "new_password": "Newpass123"}, auth=alice)
    assert wrong_old.status == 403
    weak = api(client, "PUT", f"/users/{user_id}/password",
               {"old_password": "Alice12345", "new_password": "weak"}, auth=alice)
    assert weak.status == 400
    ok = api(client, "PUT", f"/users/{user_id}/password",
             {"old_password": "Alice12345", "new_password": "Newpass123"}, auth=alice)
    assert ok.status == 200
    assert api(client, "GET", "/users/current", auth=alice).status == 401
    assert api(client, "GET", "/users/current", auth=("alice", "Newpass123")).status == 200
    reset = api(client, "PUT", f"/users/{user_id}/password", {"new_password": "Admin5et1"})
    assert reset.status == 200
    assert api(client, "GET", "/users/current", auth=("alice", "Admin5et1")).status == 200


def test_admin_flag_and_delete(client: Client) -> None:
    user_id = _create_alice(client)
    assert api(client, "PUT", f"/users/{user_id}/sysadmin", {"sysadmin_flag": True}).status == 200
    alice = ("alice", "Alice12345")
    assert api(client, "GET", "/users", auth=alice).status == 200
    assert api(client, "PUT", f"/users/{user_id}/sysadmin", {"sysadmin_flag": "yes"}).status == 400
    assert api(client, "DELETE", "/users/1").status == 403
    assert api(client, "DELETE", f"/users/{user_id}").status == 200
    assert api(client, "GET", f"/users/{user_id}").status == 404
    assert api(client, "GET", "/users/current", auth=alice).status == 401


def test_profile_update(client: Client) -> None:
    user_id = _create_alice(client)
    reply = api(client, "PUT", f"/users/{user_id}", {"email": "new@example.com", "realname": "A", "comment": "c"},
                auth=("alice", "Alice12345"))
    assert reply.status == 200
    assert api(client, "GET", f"/users/{user_id}").json()["email"] == "new@example.com"


def test_unknown_paths_and_methods(client: Client) -> None:
    assert api(client, "GET", "/nothing").error_codes == ["NOT_FOUND"]
    assert api(client, "PATCH", "/users").status == 405
    assert api(client, "POST", "/users", headers={}, body=None).status in (400, 401, 403)


def test_current_permissions_follow_the_role_in_a_project(client: Client) -> None:
    user_id = _create_alice(client)
    alice = ("alice", "Alice12345")
    assert api(client, "POST", "/projects", {"project_name": "team", "metadata": {"public": "false"}}).status == 201
    project_id = api(client, "GET", "/projects/team", headers={"X-Is-Resource-Name": "true"}).json()["project_id"]
    assert api(client, "GET", f"/users/current/permissions?scope=/project/{project_id}", auth=alice).status == 403
    guest = {"role_id": 3, "member_user": {"user_id": user_id}}
    assert api(client, "POST", f"/projects/{project_id}/members", guest).status == 201

    held = api(client, "GET", f"/users/current/permissions?scope=/project/{project_id}&relative=true",
               auth=alice).json()
    pairs = {(p["resource"], p["action"]) for p in held}
    assert ("repository", "pull") in pairs and ("member", "list") in pairs
    assert ("repository", "delete") not in pairs and ("artifact", "delete") not in pairs
    absolute = api(client, "GET", f"/users/current/permissions?scope=/project/{project_id}", auth=alice).json()
    assert {p["resource"] for p in absolute} >= {f"/project/{project_id}/repository"}
    admin = api(client, "GET", f"/users/current/permissions?scope=/project/{project_id}&relative=true").json()
    assert {"resource": "repository", "action": "delete"} in admin

    system = api(client, "GET", "/users/current/permissions?relative=true", auth=alice).json()
    assert system == [{"resource": "project", "action": "create"}]
    assert {"resource": "garbage-collection", "action": "create"} in api(
        client, "GET", "/users/current/permissions?relative=true").json()
    assert api(client, "GET", "/users/current/permissions", auth=None).status == 401
    assert api(client, "GET", "/users/current/permissions?scope=/elsewhere", auth=alice).status == 400
