"""Secrets at rest, what login attempts reveal, and which items DynamoDB's TTL may delete."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable

import boto3
import pytest

from chalicelib.config import settings
from infra import resources
from tests.support.adapter import serve_adapter
from tests.support.client import Client, api


def _table_items() -> list[dict]:
    table = boto3.client("dynamodb")
    items, args = [], {"TableName": settings().table_name}
    while True:
        page = table.scan(**args)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        args["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _derived_iterations(monkeypatch: pytest.MonkeyPatch) -> Callable[[], int]:
    """How many PBKDF2 iterations the server spends (the cost that timing would reveal)."""
    spent = [0]
    real = hashlib.pbkdf2_hmac

    def counting(name: str, password: bytes, salt: bytes, iterations: int, *args: object) -> bytes:
        spent[0] += iterations
        return real(name, password, salt, iterations, *args)

    monkeypatch.setattr(hashlib, "pbkdf2_hmac", counting)

    def taken() -> int:
        value, spent[0] = spent[0], 0
        return value
    return taken


def test_a_wrong_password_costs_the_same_for_known_and_unknown_accounts(
        client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    robot = api(client, "POST", "/robots", {"name": "ci", "level": "system", "duration": -1, "permissions": [
        {"kind": "project", "namespace": "*", "access": [{"resource": "repository", "action": "pull"}]}]}).json()
    taken = _derived_iterations(monkeypatch)
    for known, unknown in ((("admin", "wrong-password"), ("nobody", "wrong-password")),
                           ((robot["name"], "wrong-secret"), ("robot$nobody", "wrong-secret"))):
        assert api(client, "GET", "/users/current", auth=known).status == 401
        spent_on_known = taken()
        assert api(client, "GET", "/users/current", auth=unknown).status == 401
        assert taken() == spent_on_known == settings().password_iterations


def test_scanner_credentials_are_encrypted_at_rest(client: Client) -> None:
    with serve_adapter() as adapter:
        created = api(client, "POST", "/scanners", {"name": "ext", "url": adapter.url, "auth": "Bearer",
                                                    "access_credential": "s3cret-value"})
        assert created.status == 201
        uuid = created.header("Location").rsplit("/", 1)[1]
        assert not any("s3cret-value" in str(item) for item in _table_items())
        parameter = boto3.client("ssm").get_parameter(Name=f"{settings().scanner_credentials_path}/{uuid}")
        assert parameter["Parameter"]["Type"] == "SecureString"
        # Still the adapter's credential: ping and update without a new one keep using it.
        adapter.headers_seen.clear()
        assert api(client, "PUT", f"/scanners/{uuid}", {"name": "ext2", "url": adapter.url, "auth": "Bearer"}
                   ).status == 200
        assert adapter.headers_seen and all(h.get("Authorization") == "Bearer s3cret-value"
                                            for h in adapter.headers_seen)
        assert api(client, "DELETE", f"/scanners/{uuid}").status == 200
        with pytest.raises(boto3.client("ssm").exceptions.ParameterNotFound):
            boto3.client("ssm").get_parameter(Name=f"{settings().scanner_credentials_path}/{uuid}")


def test_only_items_meant_to_vanish_carry_the_ttl_attribute(client: Client, stack: resources.Context) -> None:
    ttl = boto3.client("dynamodb").describe_time_to_live(TableName=settings().table_name)
    attribute = ttl["TimeToLiveDescription"]["AttributeName"]
    assert api(client, "POST", "/robots", {"name": "short", "level": "system", "duration": 1, "permissions": [
        {"kind": "project", "namespace": "*", "access": [{"resource": "repository", "action": "pull"}]}]}
               ).status == 201
    assert api(client, "PUT", "/system/CVEAllowlist", {"items": [{"cve_id": "CVE-1"}],
                                                      "expires_at": int(time.time()) + 60}).status == 200
    assert client.request("POST", "/v2/library/app/blobs/uploads/").status == 202
    carrying = {item["PK"]["S"].split("#", 1)[0] for item in _table_items() if attribute in item}
    assert carrying == {"UPLOAD"}
