"""Replication and proxy-cache projects between real registries started by the tests: `make run`, a
second instance of it, and Debian's docker-registry; images pushed and pulled by skopeo."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.e2e.conftest import run
from tests.support.distribution import PASSWORD, USER, Distribution, distribution
from tests.support.images import make_image, write_layout
from tests.support.stack import ADMIN, Stack, local_stack
from tests.support.waiting import wait_until

CREDS = ":".join(ADMIN)


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Distribution]:
    with distribution(tmp_path_factory.mktemp("distribution")) as running:
        yield running


@pytest.fixture(scope="module")
def second(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Another instance of this registry: a Harbor to replicate to."""
    with local_stack(tmp_path_factory.mktemp("second")) as running:
        yield running


def _api(stack: Stack, method: str, path: str, body: Any = None) -> requests.Response:
    return requests.request(method, f"{stack.url}/api/v2.0{path}", json=body, auth=ADMIN, timeout=60, verify=False)


def _created_id(reply: requests.Response) -> int:
    assert reply.status_code == 201, reply.text
    return int(reply.headers["Location"].rsplit("/", 1)[1])


def _registry(stack: Stack, name: str, registry_type: str, url: str, key: str, secret: str) -> int:
    return _created_id(_api(stack, "POST", "/registries", {
        "name": name, "type": registry_type, "url": url, "insecure": True,
        "credential": {"type": "basic", "access_key": key, "access_secret": secret}}))


def _run_policy(stack: Stack, policy_id: int) -> dict[str, Any]:
    execution_id = _created_id(_api(stack, "POST", "/replication/executions", {"policy_id": policy_id}))
    return _ended(stack, execution_id)


def _ended(stack: Stack, execution_id: int) -> dict[str, Any]:
    wait_until(lambda: _api(stack, "GET", f"/replication/executions/{execution_id}").json()["status"] != "InProgress",
               300)
    return _api(stack, "GET", f"/replication/executions/{execution_id}").json()


def _push(host: str, tmp: Path, target: str, seed: str, creds: str = CREDS) -> str:
    image = make_image(seed, layer_bytes=20_000)
    source = write_layout(tmp / seed, {"t": image})
    run("skopeo", "copy", "--dest-tls-verify=false", "--dest-creds", creds, f"oci:{source}:t", f"docker://{host}/{target}")
    return image.digest


def _digest(host: str, reference: str, creds: str | None = CREDS) -> str | None:
    """The digest skopeo sees at the reference; None when the registry has no such manifest."""
    result = run("skopeo", "inspect", "--tls-verify=false", *(["--creds", creds] if creds else []),
                 "--format", "{{.Digest}}", f"docker://{host}/{reference}", check=False)
    return result.stdout.strip() if result.returncode == 0 else None


def test_push_and_pull_replication_with_the_distribution_registry(stack: Stack, upstream: Distribution,
                                                                  tmp_path: Path) -> None:
    pushed = _push(stack.host, tmp_path, "library/outbound:v1", "outbound")
    _push(stack.host, tmp_path, "library/outbound:dev", "outbound-dev")
    registry_id = _registry(stack, "distribution", "docker-registry", upstream.url, USER, PASSWORD)
    push_policy = _created_id(_api(stack, "POST", "/replication/policies", {
        "name": "to-distribution", "enabled": True, "dest_registry": {"id": registry_id},
        "dest_namespace": "mirror", "dest_namespace_replace_count": 1, "trigger": {"type": "manual"},
        "filters": [{"type": "name", "value": "library/outbound"},
                    {"type": "tag", "value": "v*", "decoration": "matches"}]}))

    execution = _run_policy(stack, push_policy)

    assert execution["status"] == "Succeed", execution
    upstream_creds = f"{USER}:{PASSWORD}"
    assert _digest(upstream.host, "mirror/outbound:v1", upstream_creds) == pushed
    assert _digest(upstream.host, "mirror/outbound:dev", upstream_creds) is None

    inbound = _push(upstream.host, tmp_path, "team/inbound:1.0", "inbound", upstream_creds)
    pull_policy = _created_id(_api(stack, "POST", "/replication/policies", {
        "name": "from-distribution", "enabled": True, "src_registry": {"id": registry_id},
        "dest_namespace": "pulled", "trigger": {"type": "manual"},
        "filters": [{"type": "name", "value": "team/**"}]}))

    assert _run_policy(stack, pull_policy)["status"] == "Succeed"
    assert _digest(stack.host, "pulled/inbound:1.0") == inbound


def test_event_based_replication_to_another_instance_follows_a_push_and_a_deletion(
        stack: Stack, second: Stack, tmp_path: Path) -> None:
    registry_id = _registry(stack, "second", "harbor", second.url, *ADMIN)
    _created_id(_api(stack, "POST", "/replication/policies", {
        "name": "live", "enabled": True, "dest_registry": {"id": registry_id}, "replicate_deletion": True,
        "trigger": {"type": "event_based"}, "filters": [{"type": "name", "value": "library/live*"}]}))

    digest = _push(stack.host, tmp_path, "library/live:v1", "live")

    wait_until(lambda: _digest(second.host, "library/live:v1") == digest, 300)
    run("skopeo", "delete", "--tls-verify=false", "--creds", CREDS, f"docker://{stack.host}/library/live@{digest}")
    wait_until(lambda: _digest(second.host, f"library/live@{digest}") is None, 300)


def test_pull_replication_from_another_instance(stack: Stack, second: Stack, tmp_path: Path) -> None:
    pushed = _push(second.host, tmp_path, "library/remote-app:1.0", "remote-app")
    _push(second.host, tmp_path, "library/remote-other:1.0", "remote-other")
    registry_id = _registry(stack, "second-source", "harbor", second.url, *ADMIN)
    policy_id = _created_id(_api(stack, "POST", "/replication/policies", {
        "name": "from-second", "enabled": True, "src_registry": {"id": registry_id}, "dest_namespace": "fetched",
        "dest_namespace_replace_count": 1, "trigger": {"type": "manual"},
        "filters": [{"type": "name", "value": "library/remote-app"}]}))

    execution = _run_policy(stack, policy_id)

    assert execution["status"] == "Succeed" and execution["total"] == 1, execution
    assert _digest(stack.host, "fetched/remote-app:1.0") == pushed
    assert _digest(stack.host, "fetched/remote-other:1.0") is None


def test_replication_into_a_proxy_cache_project_is_skipped_with_harbors_messages(
        stack: Stack, second: Stack, upstream: Distribution, tmp_path: Path) -> None:
    cache_registry = _registry(second, "upstream", "docker-registry", upstream.url, USER, PASSWORD)
    assert _api(second, "POST", "/projects", {"project_name": "cache", "registry_id": cache_registry}
                ).status_code == 201
    _push(stack.host, tmp_path, "library/skipped:v1", "skipped")
    target = _registry(stack, "second-for-skip", "harbor", second.url, *ADMIN)
    policy_id = _created_id(_api(stack, "POST", "/replication/policies", {
        "name": "into-cache", "enabled": True, "dest_registry": {"id": target}, "dest_namespace": "cache",
        "trigger": {"type": "manual"}, "filters": [{"type": "name", "value": "library/skipped"}]}))

    execution = _run_policy(stack, policy_id)

    assert execution["status"] == "Succeed" and execution["total"] == 0
    assert execution["status_text"] == "no resources need to be replicated"
    assert "skip create replication task because of dest limitation" in stack.log.read_text()
    assert _digest(second.host, "cache/skipped:v1") is None


def test_a_proxy_cache_project_in_front_of_the_distribution_registry(stack: Stack, tmp_path: Path) -> None:
    with distribution(tmp_path / "open", auth=False) as open_upstream:
        first = _push(open_upstream.host, tmp_path, "team/app:1", "first", "x:y")
        registry_id = _created_id(_api(stack, "POST", "/registries", {
            "name": "open-upstream", "type": "docker-registry", "url": open_upstream.url}))
        assert _api(stack, "POST", "/projects", {"project_name": "hub", "registry_id": registry_id,
                                                 "metadata": {"public": "true"}}).status_code == 201
        pulled = tmp_path / "pulled"
        # skopeo inspect lists the repository's tags first: they come from the upstream before any pull.
        assert _digest(stack.host, "hub/team/app:1") == first

        run("skopeo", "copy", "--src-tls-verify=false", f"docker://{stack.host}/hub/team/app:1", f"oci:{pulled}:a")
        wait_until(lambda: _api(stack, "GET", "/projects/hub/repositories/team%252Fapp/artifacts/1"
                                ).status_code == 200, 120)

        moved = _push(open_upstream.host, tmp_path, "team/app:1", "second", "x:y")
        assert _digest(stack.host, "hub/team/app:1") == moved  # the HEAD saw the tag move
        wait_until(lambda: _api(stack, "GET", f"/projects/hub/repositories/team%252Fapp/artifacts/{moved}"
                                ).status_code == 200, 120)

        open_upstream.stop()
        run("skopeo", "copy", "--src-tls-verify=false", f"docker://{stack.host}/hub/team/app:1", f"oci:{pulled}:b")
        index = json.loads((pulled / "index.json").read_text())
        assert {m["digest"] for m in index["manifests"]} == {first, moved}


def test_harborapi_drives_registries_and_replication(stack: Stack, upstream: Distribution, tmp_path: Path) -> None:
    """harborapi's models parse every answer (a shape Harbor's clients cannot read fails here)."""
    from harborapi import HarborAsyncClient
    from harborapi.models import (
        Registry,
        RegistryCredential,
        RegistryPing,
        ReplicationFilter,
        ReplicationPolicy,
        ReplicationTrigger,
    )

    digest = _push(stack.host, tmp_path, "library/harborapi-rep:v1", "harborapi-rep")
    client = HarborAsyncClient(url=f"{stack.url}/api/v2.0", username=ADMIN[0], secret=ADMIN[1])

    async def scenario() -> None:
        await client.check_registry_status(RegistryPing(type="docker-registry", url=upstream.url, access_key=USER,
                                                        access_secret=PASSWORD))
        location = await client.create_registry(Registry(
            name="via-harborapi", type="docker-registry", url=upstream.url, insecure=True,
            credential=RegistryCredential(type="basic", access_key=USER, access_secret=PASSWORD)))
        registry_id = int(location.rsplit("/", 1)[1])
        assert any(r.id == registry_id and r.credential.access_secret == "*****"
                   for r in await client.get_registries(limit=None))
        assert "docker-registry" in await client.get_registry_adapters()
        assert (await client.get_registry_info(registry_id)).supported_triggers == ["manual", "scheduled"]
        await client.get_registry_providers()
        policy_location = await client.create_replication_policy(ReplicationPolicy(
            name="via-harborapi", enabled=True, dest_registry=Registry(id=registry_id), dest_namespace="api",
            trigger=ReplicationTrigger(type="manual"),
            filters=[ReplicationFilter(type="name", value="library/harborapi-rep")]))
        policy_id = int(policy_location.rsplit("/", 1)[1])
        execution_id = int((await client.start_replication(policy_id)).rsplit("/", 1)[1])
        while (await client.get_replication(execution_id)).status == "InProgress":
            await asyncio.sleep(0.2)
        assert (await client.get_replication(execution_id)).status == "Succeed"
        assert [e.id for e in await client.get_replications(policy_id=policy_id)] == [execution_id]
        [task] = await client.get_replication_tasks(execution_id)
        assert task.status == "Succeed" and task.dst_resource == "api/harborapi-rep [1 item(s) in total]"
        assert "blobs sent" in await client.get_replication_task_log(execution_id, task.id)

    asyncio.run(scenario())
    assert _digest(upstream.host, "api/harborapi-rep:v1", f"{USER}:{PASSWORD}") == digest
