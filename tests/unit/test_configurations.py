"""/configurations (chalicelib/configurations.py): Harbor's shape, validation that changes nothing on a
refusal, and the items enforced: read-only mode on /v2/ and the API, who may create projects, the
default robot token duration."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from infra.ports import free_port
from tests.support.client import Client, api
from tests.support.images import make_image
from tests.support.oci import push_image, upload_blob
from tests.support.swagger import validate

DEV = ("dev", "Passw0rd1")
READ_ONLY = "The system is in read only mode. Any modification is prohibited."


def _settings(client: Client) -> dict[str, dict]:
    reply = api(client, "GET", "/configurations")
    assert reply.status == 200, reply.body
    return reply.json()


def _refused(reply: object, status: int, message: str) -> None:
    assert reply.status == status, reply.body  # type: ignore[attr-defined]
    assert message in reply.json()["errors"][0]["message"]  # type: ignore[attr-defined]


@pytest.fixture
def dev(client: Client) -> tuple[str, str]:
    api(client, "POST", "/users", {"username": "dev", "password": DEV[1], "email": "d@example.com"})
    return DEV


@pytest.fixture
def syslog_receiver() -> Iterator[str]:
    """A TCP endpoint that accepts connections, as a syslog receiver does."""
    server = socket.create_server(("127.0.0.1", 0))
    try:
        yield f"127.0.0.1:{server.getsockname()[1]}"
    finally:
        server.close()


def test_system_admins_read_every_item_with_its_value_and_whether_it_may_change(
        client: Client, dev: tuple[str, str]) -> None:
    shown = _settings(client)
    validate(shown, "ConfigurationsResponse")
    assert shown["read_only"] == {"value": False, "editable": True}
    assert shown["project_creation_restriction"] == {"value": "everyone", "editable": True}
    assert shown["robot_token_duration"] == {"value": 30, "editable": True}
    assert shown["auth_mode"] == {"value": "db_auth", "editable": False}
    assert shown["self_registration"] == {"value": False, "editable": False}
    assert api(client, "GET", "/configurations", auth=dev).status == 403
    assert api(client, "PUT", "/configurations", {"read_only": True}, auth=dev).status == 403
    assert api(client, "GET", "/configurations", auth=None).status == 401


@pytest.mark.parametrize(("change", "message"), [
    ({"ldap_url": "ldap://x"}, "unknown configuration item: ldap_url"),
    ({"auth_mode": "ldap_auth"}, "the configuration item auth_mode cannot be changed"),
    ({"self_registration": True}, "the configuration item self_registration cannot be changed"),
    ({"read_only": "true"}, "read_only must be a bool"),
    ({"robot_token_duration": True}, "robot_token_duration must be a int"),
    ({"robot_token_duration": 0}, "robot_token_duration must be a positive number"),
    ({"project_creation_restriction": "nobody"}, "must be one of everyone, adminonly"),
    ({"audit_log_forward_endpoint": "no-port"}, "audit_log_forward_endpoint must be host:port"),
    ({"read_only": True, "skip_audit_log_database": True},
     "audit log forward endpoint should be configured before enable skip audit log in database"),
    ({"read_only": True, "audit_log_forward_endpoint": f"127.0.0.1:{free_port()}"},
     "could not connect to the audit endpoint: 127.0.0.1:"),
])
def test_a_refused_change_is_a_400_and_changes_nothing(client: Client, change: dict, message: str) -> None:
    before = _settings(client)
    _refused(api(client, "PUT", "/configurations", change), 400, message)
    assert _settings(client) == before


def test_an_audit_endpoint_that_answers_is_taken_and_then_the_database_may_be_skipped(
        client: Client, syslog_receiver: str) -> None:
    assert api(client, "PUT", "/configurations", {"audit_log_forward_endpoint": syslog_receiver}).status == 200
    assert api(client, "PUT", "/configurations", {"skip_audit_log_database": True}).status == 200
    shown = _settings(client)
    assert shown["audit_log_forward_endpoint"]["value"] == syslog_receiver
    assert shown["skip_audit_log_database"]["value"] is True


def test_read_only_mode_refuses_every_modification_and_serves_every_read(client: Client) -> None:
    image = make_image("kept")
    assert push_image(client, "library/app", "v1", image).status == 201
    assert api(client, "PUT", "/configurations", {"read_only": True}).status == 200

    refused = [upload_blob(client, "library/app", b"new layer"),
               client.request("DELETE", f"/v2/library/app/manifests/{image.digest}"),
               api(client, "POST", "/projects", {"project_name": "team"}),
               api(client, "DELETE", "/projects/library/repositories/app")]
    for reply in refused:
        assert reply.status == 403, reply.body
        assert reply.json()["errors"][0] == {"code": "DENIED", "message": READ_ONLY}
    assert client.request("GET", "/v2/library/app/manifests/v1").status == 200
    assert api(client, "GET", "/projects/library/repositories/app/artifacts").status == 200

    assert api(client, "PUT", "/configurations", {"read_only": False}).status == 200  # how it is turned off
    assert push_image(client, "library/app", "v2", make_image("after")).status == 201


def test_with_adminonly_only_system_admins_create_projects(client: Client, dev: tuple[str, str]) -> None:
    assert api(client, "POST", "/projects", {"project_name": "mine"}, auth=dev).status == 201
    assert api(client, "PUT", "/configurations", {"project_creation_restriction": "adminonly"}).status == 200
    _refused(api(client, "POST", "/projects", {"project_name": "other"}, auth=dev), 403,
             "Only system admin can create project")
    assert api(client, "HEAD", "/projects?project_name=other").status == 404
    assert api(client, "POST", "/projects", {"project_name": "other"}).status == 201


def test_a_robot_created_without_a_duration_gets_the_configured_one(client: Client) -> None:
    assert api(client, "PUT", "/configurations", {"robot_token_duration": 7}).status == 200
    created = api(client, "POST", "/robots", {"name": "ci", "level": "system", "permissions": [
        {"kind": "project", "namespace": "*", "access": [{"resource": "repository", "action": "pull"}]}]})
    assert created.status == 201, created.body
    robot = api(client, "GET", f"/robots/{created.json()['id']}").json()
    assert robot["duration"] == 7
    assert abs(robot["expires_at"] - (time.time() + 7 * 86400)) < 3600


def _system_robot(client: Client, name: str) -> tuple[str, str]:
    created = api(client, "POST", "/robots", {"name": name, "level": "system", "duration": -1, "permissions": [
        {"kind": "project", "namespace": "*", "access": [{"resource": "repository", "action": "pull"}]}]})
    assert created.status == 201, created.body
    return created.json()["name"], created.json()["secret"]


def test_robots_are_named_and_recognised_by_the_configured_prefix(client: Client) -> None:
    old = _system_robot(client, "before")
    assert old[0] == "robot$before"
    _refused(api(client, "PUT", "/configurations", {"robot_name_prefix": "bot "}), 400,
             "robot_name_prefix must be 1 to 30 characters without blanks or ':'")
    assert api(client, "PUT", "/configurations", {"robot_name_prefix": "bot-"}).status == 200
    new = _system_robot(client, "after")
    assert new[0] == "bot-after"
    assert client.request("GET", "/v2/", auth=new).status == 200
    # As in Harbor, a robot named under the earlier prefix is no longer recognised as one.
    assert client.request("GET", "/v2/", auth=old).status == 401
