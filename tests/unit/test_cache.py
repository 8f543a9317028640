"""The cache (chalicelib/store/cache.py) on a real redis-server: warm pulls read no table, and no
change is ever served stale, whether Redis answers, hangs or restarts empty."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import pytest

from chalicelib import aws
from chalicelib.store import cache, metadata
from infra.cache_server import RedisServer
from tests.support.aws_calls import counting
from tests.support.client import Client, Reply, api
from tests.support.images import Image, make_image, sha256
from tests.support.load import load
from tests.support.oci import push_image, upload_blob

ADMIN = ("admin", "Harbor12345")
_LEASE_RENEWAL = f"dynamodb.GetItem({cache.DIRTY[0]})"


def _pull(client: Client, name: str, reference: str, **kwargs: object) -> Reply:
    return client.request("GET", f"/v2/{name}/manifests/{reference}", **kwargs)


def _digest(reply: Reply) -> str:
    assert reply.status == 200, reply.body
    return reply.header("Docker-Content-Digest")


def _table_calls(request: Callable[[], Reply]) -> int:
    """The table reads of a request, besides the renewal of the cache's lease (one read, whenever the
    lease has run out: every two seconds by default, whatever the traffic)."""
    with counting() as usage:
        request()
    return sum(n for call, n in usage.calls.items() if call.startswith("dynamodb.") and call != _LEASE_RENEWAL)


def _pull_token(client: Client, name: str) -> str:
    """A bearer token: Basic credentials are checked against the user's record on every request."""
    return client.request("GET", f"/service/token?scope=repository:{name}:pull", auth=ADMIN).json()["token"]


def _pushed(client: Client, name: str, tag: str, seed: str) -> Image:
    image = make_image(seed)
    assert push_image(client, name, tag, image).status == 201
    return image


def test_a_warm_pull_reads_nothing_from_the_table(client: Client, cached: RedisServer) -> None:
    image = _pushed(client, "library/app", "v1", "warm")
    token = _pull_token(client, "library/app")
    layer = sha256(image.layers[0])
    requests = [lambda: _pull(client, "library/app", "v1", token=token),
                lambda: _pull(client, "library/app", image.digest, token=token),
                lambda: client.request("HEAD", "/v2/library/app/manifests/v1", token=token),
                lambda: client.request("HEAD", f"/v2/library/app/blobs/{layer}", token=token)]
    for request in requests:
        assert request().status == 200  # cold: read from the table, kept
        assert _table_calls(request) == 0
    assert cached.client().info("stats")["keyspace_hits"] >= 4


def _table_reads(request: Callable[[], Reply]) -> list[str]:
    with counting() as usage:
        assert request().status == 200
    return sorted(call for call, n in usage.calls.items() for _ in range(n)
                  if call.startswith("dynamodb.") and call != _LEASE_RENEWAL)


def _cold_reads(client: Client, image: Image) -> tuple[list[str], list[str]]:
    """The table reads of a pull by tag and of one by digest, when neither the project nor the
    repository is cached (both were just written)."""
    reads = []
    for reference in ("v1", image.digest):
        assert push_image(client, "team/app", reference, image).status == 201
        api(client, "PUT", "/projects/team", {"metadata": {"public": "true"}})
        reads.append(_table_reads(partial(_pull, client, "team/app", reference, auth=None)))
    return reads[0], reads[1]


def test_a_cold_pull_reads_its_project_and_manifest_in_at_most_two_table_calls(
        client: Client, cached: RedisServer) -> None:
    api(client, "POST", "/projects", {"project_name": "team", "metadata": {"public": "true"}})
    image = _pushed(client, "team/app", "v1", "cold")
    by_tag, by_digest = _cold_reads(client, image)
    # The project and the tag in one BatchGetItem, then the manifest the tag names.
    assert by_tag == ["dynamodb.BatchGetItem", "dynamodb.GetItem(REPO)"]
    assert by_digest == ["dynamodb.BatchGetItem"]  # the project and the manifest
    assert _table_reads(lambda: _pull(client, "team/app", image.digest, auth=None)) == []  # and kept


def test_without_the_cache_a_pull_reads_as_few_items(client: Client) -> None:
    api(client, "POST", "/projects", {"project_name": "team", "metadata": {"public": "true"}})
    image = _pushed(client, "team/app", "v1", "uncached")
    assert _cold_reads(client, image) == (["dynamodb.BatchGetItem", "dynamodb.GetItem(REPO)"],
                                          ["dynamodb.BatchGetItem"])


def test_a_moved_tag_is_seen_by_the_next_pull(client: Client, cached: RedisServer) -> None:
    first = _pushed(client, "library/app", "v1", "first")
    assert _digest(_pull(client, "library/app", "v1")) == first.digest
    second = _pushed(client, "library/app", "v1", "second")
    assert _digest(_pull(client, "library/app", "v1")) == second.digest
    api(client, "POST", f"/projects/library/repositories/app/artifacts/{first.digest}/tags", {"name": "old"})
    assert _digest(_pull(client, "library/app", "old")) == first.digest
    api(client, "DELETE", f"/projects/library/repositories/app/artifacts/{first.digest}/tags/old")
    assert _pull(client, "library/app", "old").status == 404


def test_a_deleted_artifact_repository_or_project_is_gone_at_once(client: Client, cached: RedisServer) -> None:
    api(client, "POST", "/projects", {"project_name": "team", "metadata": {"public": "true"}})
    image = _pushed(client, "team/app", "v1", "doomed")
    other = _pushed(client, "team/other", "v1", "other")
    for reference in ("v1", image.digest):
        assert _pull(client, "team/app", reference, auth=None).status == 200
    assert client.request("DELETE", f"/v2/team/app/manifests/{image.digest}").status == 202
    for reference in ("v1", image.digest):
        assert _pull(client, "team/app", reference, auth=None).status == 404
    assert _pull(client, "team/other", other.digest, auth=None).status == 200
    assert api(client, "DELETE", "/projects/team/repositories/other").status == 200
    assert _pull(client, "team/other", other.digest, auth=None).status == 404
    assert api(client, "DELETE", "/projects/team/repositories/app").status == 200
    assert api(client, "DELETE", "/projects/team").status == 200
    # A new project of the same name, private: what was cached of the old one does not answer for it.
    api(client, "POST", "/projects", {"project_name": "team", "metadata": {"public": "false"}})
    _pushed(client, "team/other", "v1", "other")
    assert _pull(client, "team/other", other.digest, auth=None).status == 401


def test_a_project_turned_private_refuses_the_next_anonymous_pull(client: Client, cached: RedisServer) -> None:
    api(client, "POST", "/projects", {"project_name": "team", "metadata": {"public": "true"}})
    _pushed(client, "team/app", "v1", "public")
    assert _pull(client, "team/app", "v1", auth=None).status == 200
    api(client, "PUT", "/projects/team", {"metadata": {"public": "false"}})
    assert _pull(client, "team/app", "v1", auth=None).status == 401


def test_a_member_who_loses_the_role_is_refused_at_once(client: Client, cached: RedisServer) -> None:
    api(client, "POST", "/projects", {"project_name": "team"})
    _pushed(client, "team/app", "v1", "members")
    api(client, "POST", "/users", {"username": "dev", "password": "Passw0rd!", "email": "dev@example.com",
                                   "realname": "dev"})
    api(client, "POST", "/projects/team/members", {"role_id": 2, "member_user": {"username": "dev"}})
    dev = ("dev", "Passw0rd!")
    assert _pull(client, "team/app", "v1", auth=dev).status == 200
    member = next(m for m in api(client, "GET", "/projects/team/members").json() if m["entity_name"] == "dev")
    api(client, "PUT", f"/projects/team/members/{member['id']}", {"role_id": 5})  # limited guest: still pulls
    assert _pull(client, "team/app", "v1", auth=dev).status == 200
    api(client, "DELETE", f"/projects/team/members/{member['id']}")
    assert _pull(client, "team/app", "v1", auth=dev).status in (401, 403)


def test_a_policy_turned_on_applies_to_the_next_pull(client: Client, cached: RedisServer) -> None:
    api(client, "POST", "/projects", {"project_name": "team"})
    _pushed(client, "team/app", "v1", "unsigned")
    assert _pull(client, "team/app", "v1").status == 200
    api(client, "PUT", "/projects/team", {"metadata": {"enable_content_trust_cosign": "true"}})
    assert _pull(client, "team/app", "v1").status == 412


def test_a_fill_that_raced_a_write_is_never_stored(cached: RedisServer, stack: object) -> None:
    key = cache.Key("repo:raced", "ref:raced:v1")
    loads: list[str] = []

    def load_while_written(consistent: bool) -> str:
        loads.append("read")
        cache.invalidate(["repo:raced"])  # a write lands between the read of the table and the fill
        return "what the read saw"

    assert cache.read(key, load_while_written, str, str) == "what the read saw"
    assert cache.read(key, lambda consistent: "fresh", str, str) == "fresh"  # nothing was kept: read again
    assert cache.read(key, lambda consistent: "never read", str, str) == "fresh"
    assert loads == ["read"]


def test_requests_are_served_while_redis_hangs_and_the_cache_is_used_again_after(
        client: Client, cached: RedisServer, monkeypatch: pytest.MonkeyPatch) -> None:
    image = _pushed(client, "library/app", "v1", "outage")
    assert _digest(_pull(client, "library/app", "v1")) == image.digest
    monkeypatch.setenv("CACHE_TIMEOUT_SECONDS", "0.3")
    monkeypatch.setenv("CACHE_RETRY_SECONDS", "0")  # try Redis on every request
    monkeypatch.setenv("CACHE_LEASE_MS", "500")
    _reconfigure()
    cached.freeze()
    try:
        assert _digest(_pull(client, "library/app", "v1")) == image.digest
        health = api(client, "GET", "/health").json()
        assert {c["name"]: c["status"] for c in health["components"]}["redis"] == "unhealthy"
        moved = _pushed(client, "library/app", "v1", "pushed while Redis hangs")
        assert metadata.get(*cache.DIRTY, consistent=True)["missed"] >= 1
    finally:
        cached.thaw()
    # Short timeouts and leases only made the hang quick to see: a busy machine must not look like one.
    monkeypatch.setenv("CACHE_TIMEOUT_SECONDS", "10")
    monkeypatch.setenv("CACHE_LEASE_MS", "60000")
    _reconfigure()
    # Redis kept its entries; the write it missed is not hidden by them.
    token = _pull_token(client, "library/app")
    assert _digest(_pull(client, "library/app", "v1", token=token)) == moved.digest
    assert _table_calls(lambda: _pull(client, "library/app", "v1", token=token)) == 0
    health = api(client, "GET", "/health").json()
    assert {c["name"]: c["status"] for c in health["components"]}["redis"] == "healthy"


def test_redis_killed_and_restarted_mid_traffic_fails_no_request(client: Client, cached: RedisServer,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    image = _pushed(client, "library/app", "v1", "restart")
    monkeypatch.setenv("CACHE_RETRY_SECONDS", "0")
    _reconfigure()
    with load(lambda: _pull(client, "library/app", "v1").status, threads=4) as pulls:
        pulls.wait_for_more(8)
        cached.stop()
        pulls.wait_for_more(8)  # pulls go on without it
        cached.start()
        pulls.wait_for_more(8)
    assert set(pulls.statuses) == {200}
    token = _pull_token(client, "library/app")
    assert _digest(_pull(client, "library/app", "v1", token=token)) == image.digest
    assert _table_calls(lambda: _pull(client, "library/app", "v1", token=token)) == 0  # used again


def _reconfigure() -> None:
    aws.reset()
    cache.reset()


def test_a_configuration_change_is_seen_by_the_next_request(client: Client, cached: RedisServer) -> None:
    assert _pushed(client, "library/app", "v1", "before").digest
    assert api(client, "PUT", "/configurations", {"read_only": True}).status == 200
    assert upload_blob(client, "library/app", b"refused").status == 403
    assert api(client, "PUT", "/configurations", {"read_only": False}).status == 200
    assert push_image(client, "library/app", "v2", make_image("taken")).status == 201
    assert cached.client().info("stats")["keyspace_hits"] > 0
