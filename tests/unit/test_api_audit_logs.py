"""Audit: one record per push, pull (GET only), delete, tag and project change; the two list APIs."""

from __future__ import annotations

from chalicelib.auth import users
from infra.functions import LocalFunctions
from tests.support.client import Client, api
from tests.support.images import make_image
from tests.support.oci import push_image


def _operations(client: Client, path: str = "/audit-logs", **kwargs) -> list[tuple[str, str, str, str]]:
    reply = api(client, "GET", f"{path}?page_size=100", **kwargs)
    assert reply.status == 200, reply.body
    return [(r["operation"], r["resource_type"], r["resource"], r["username"]) for r in reply.json()]


def test_each_operation_writes_one_record_newest_first(client: Client, local_functions: LocalFunctions) -> None:
    image = make_image("audited")
    push_image(client, "library/app", "v1", image)
    client.request("HEAD", "/v2/library/app/manifests/v1")  # not a pull
    client.request("GET", "/v2/library/app/manifests/v1")
    client.request("GET", f"/v2/library/app/manifests/{image.digest}", auth=None)
    api(client, "POST", "/projects/library/repositories/app/artifacts/v1/tags", {"name": "stable"})
    api(client, "DELETE", "/projects/library/repositories/app/artifacts/v1/tags/stable")
    client.request("DELETE", "/v2/library/app/manifests/v1")
    api(client, "POST", "/projects", {"project_name": "team"})
    api(client, "DELETE", "/projects/team")
    push_image(client, "library/other", "v1", make_image("other"))
    api(client, "DELETE", "/projects/library/repositories/other")
    gone = make_image("gone")
    push_image(client, "library/gone", "v1", gone)
    client.request("DELETE", f"/v2/library/gone/manifests/{make_image('x').digest}")  # unknown: no record
    api(client, "DELETE", "/projects/library/repositories/gone/artifacts/v1")
    local_functions.drain()  # pulls are recorded in batches
    assert _operations(client) == [
        ("delete", "artifact", f"library/gone:{gone.digest}", "admin"),
        ("create", "artifact", "library/gone:v1", "admin"),
        ("delete", "repository", "library/other", "admin"),
        ("create", "artifact", "library/other:v1", "admin"),
        ("delete", "project", "team", "admin"),
        ("create", "project", "team", "admin"),
        ("delete", "tag", "library/app:v1", "admin"),
        ("delete", "tag", "library/app:stable", "admin"),
        ("create", "tag", "library/app:stable", "admin"),
        ("pull", "artifact", f"library/app:{image.digest}", "anonymous"),
        ("pull", "artifact", "library/app:v1", "admin"),
        ("create", "artifact", "library/app:v1", "admin"),
    ]
    first = api(client, "GET", "/audit-logs?page_size=1").json()[0]
    assert set(first) == {"id", "username", "resource", "resource_type", "operation", "op_time"}
    assert first["op_time"].endswith("Z")


def test_audit_queries_paging_and_project_logs(client: Client, local_functions: LocalFunctions) -> None:
    for index in range(3):
        push_image(client, "library/app", f"v{index}", make_image(f"q{index}"))
    for _ in range(2):
        client.request("GET", "/v2/library/app/manifests/v0")
    local_functions.drain()  # pulls are recorded in batches
    listed = api(client, "GET", "/audit-logs?page=2&page_size=2")
    assert listed.header("X-Total-Count") == "5" and len(listed.json()) == 2
    pulls = api(client, "GET", "/audit-logs?q=operation%3Dpull")
    assert pulls.header("X-Total-Count") == "2"
    fuzzy = api(client, "GET", "/audit-logs?q=resource%3D~v2,operation%3Dcreate").json()
    assert [r["resource"] for r in fuzzy] == ["library/app:v2"]
    oldest_first = api(client, "GET", "/audit-logs?sort=op_time&page_size=1").json()
    assert oldest_first[0]["resource"] == "library/app:v0" and oldest_first[0]["operation"] == "create"
    in_range = api(client, "GET", "/audit-logs?q=op_time%3D%5B2000-01-01%2000:00:00~2999-01-01%2000:00:00%5D")
    assert in_range.header("X-Total-Count") == "5"
    assert api(client, "GET", "/projects/library/logs").header("X-Total-Count") == "5"
    assert api(client, "GET", "/audit-logs?q=nope%3D1").status == 400


def test_who_may_read_audit_logs(client: Client) -> None:
    push_image(client, "library/app", "v1", make_image("who"))
    api(client, "POST", "/projects", {"project_name": "team"})
    push_image(client, "team/app", "v1", make_image("team"))
    for name, role in (("guest", 3), ("limited", 5)):
        users.create_user(name, "Passw0rd1")
        api(client, "POST", "/projects/team/members", {"role_id": role, "member_user": {"username": name}})
    users.create_user("stranger", "Passw0rd1")
    guest, limited, stranger = ("guest", "Passw0rd1"), ("limited", "Passw0rd1"), ("stranger", "Passw0rd1")
    assert {r[2] for r in _operations(client, auth=guest)} == {"team", "team/app:v1"}  # team's logs only
    assert _operations(client, auth=limited) == []
    assert api(client, "GET", "/projects/team/logs", auth=limited).status == 403
    assert api(client, "GET", "/projects/team/logs", auth=stranger).status == 403
    assert api(client, "GET", "/projects/library/logs", auth=stranger).status == 403  # public, but not a member
    assert api(client, "GET", "/audit-logs", auth=None).status == 401
    assert _operations(client, auth=stranger) == []
