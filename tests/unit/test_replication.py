"""Registries, replication and proxy-cache projects through Harbor's API, against a real CNCF
distribution registry (Debian's docker-registry) started by the test; executions run on the real
state machine (moto's ASL interpreter calling the task function in-process)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from chalicelib.config import settings
from infra.functions import LocalFunctions
from tests.support.client import Client, api
from tests.support.distribution import PASSWORD, USER, Distribution, HttpClient, distribution, seed
from tests.support.emulated_aws import s3_refuses_to_read
from tests.support.images import OCI_MANIFEST, Image, make_image, sha256
from tests.support.oci import push_cosign_signature, push_image
from tests.support.swagger import validate
from tests.support.waiting import wait_until
from tests.unit.conftest import Configure


@pytest.fixture
def upstream(tmp_path: Path) -> Iterator[Distribution]:
    with distribution(tmp_path / "distribution") as running:
        yield running


def _seed(registry: Distribution, name: str, reference: str, image: Image) -> None:
    """Push an image to the distribution registry as a client would."""
    seed(HttpClient(registry.url), name, reference, [image.config, *image.layers], image.manifest, OCI_MANIFEST)


def _digest_at(registry: Distribution, name: str, reference: str) -> str | None:
    reply = HttpClient(registry.url).request("HEAD", f"/v2/{name}/manifests/{reference}", accept=[OCI_MANIFEST])
    return reply.header("Docker-Content-Digest") if reply.status == 200 else None


def _register(client: Client, registry: Distribution, name: str = "upstream") -> int:
    reply = api(client, "POST", "/registries", {
        "name": name, "type": "docker-registry", "url": registry.url, "insecure": True,
        "credential": {"type": "basic", "access_key": USER, "access_secret": PASSWORD}})
    assert reply.status == 201, reply.body
    return int(reply.header("Location").rsplit("/", 1)[1])


def _policy(client: Client, **fields: Any) -> int:
    reply = api(client, "POST", "/replication/policies", {"name": "p", "enabled": True, "override": True,
                                                          "trigger": {"type": "manual"}, **fields})
    assert reply.status == 201, reply.body
    return int(reply.header("Location").rsplit("/", 1)[1])


def _run(client: Client, policy_id: int) -> dict[str, Any]:
    started = api(client, "POST", "/replication/executions", {"policy_id": policy_id})
    assert started.status == 201, started.body
    return _ended(client, int(started.header("Location").rsplit("/", 1)[1]))


def _ended(client: Client, execution_id: int) -> dict[str, Any]:
    wait_until(lambda: api(client, "GET", f"/replication/executions/{execution_id}").json()["status"] != "InProgress",
               120)
    execution = api(client, "GET", f"/replication/executions/{execution_id}").json()
    validate(execution, "ReplicationExecution")
    return execution


def _tasks(client: Client, execution_id: int) -> list[dict[str, Any]]:
    tasks = api(client, "GET", f"/replication/executions/{execution_id}/tasks").json()
    for task in tasks:
        validate(task, "ReplicationTask")
    return tasks


def _log(client: Client, execution_id: int, task_id: int) -> str:
    reply = api(client, "GET", f"/replication/executions/{execution_id}/tasks/{task_id}/log")
    assert reply.status == 200 and reply.header("Content-Type").startswith("text/plain")
    return reply.body.decode()


def test_a_registry_is_checked_saved_with_its_secret_encrypted_and_never_shown(client: Client,
                                                                               upstream: Distribution) -> None:
    bad = api(client, "POST", "/registries", {"name": "bad", "type": "docker-registry", "url": upstream.url,
                                              "credential": {"access_key": USER, "access_secret": "wrong"}})
    assert bad.status == 400 and "the registry is unhealthy" in bad.body.decode()
    assert api(client, "POST", "/registries/ping", {"type": "docker-registry", "url": upstream.url,
                                                   "access_key": USER, "access_secret": PASSWORD}).status == 200

    registry_id = _register(client, upstream)

    shown = api(client, "GET", f"/registries/{registry_id}").json()
    validate(shown, "Registry")
    assert shown["credential"] == {"type": "basic", "access_key": USER, "access_secret": "*****"}
    assert shown["status"] == "healthy" and shown["url"] == upstream.url
    assert PASSWORD not in api(client, "GET", "/registries").body.decode()
    parameter = boto3.client("ssm").get_parameter(Name=f"{settings().registry_credentials_path}/{registry_id}")
    assert parameter["Parameter"]["Type"] == "SecureString"
    # A saved registry pinged by id with its stored secret; a duplicate name is a conflict.
    assert api(client, "POST", "/registries/ping", {"id": registry_id}).status == 200
    assert api(client, "POST", "/registries", {"name": "upstream", "type": "docker-registry", "url": upstream.url,
                                               "credential": {"access_key": USER, "access_secret": PASSWORD}}
               ).status == 409
    assert api(client, "GET", "/replication/adapters").json() == ["harbor", "docker-registry", "docker-hub"]
    infos = api(client, "GET", "/replication/adapterinfos").json()
    assert set(infos) == {"harbor", "docker-registry", "docker-hub"}
    for provider in infos.values():
        validate(provider, "RegistryProviderInfo")
    info = api(client, "GET", f"/registries/{registry_id}/info").json()
    validate(info, "RegistryInfo")
    assert info["supported_triggers"] == ["manual", "scheduled"]
    assert "event_based" in api(client, "GET", "/registries/0/info").json()["supported_triggers"]

    policy_id = _policy(client, dest_registry={"id": registry_id})
    refused = api(client, "DELETE", f"/registries/{registry_id}")
    assert refused.status == 412 and "referenced by replication policies" in refused.body.decode()
    assert api(client, "DELETE", f"/replication/policies/{policy_id}").status == 200
    assert api(client, "DELETE", f"/registries/{registry_id}").status == 200
    assert api(client, "GET", f"/registries/{registry_id}").status == 404


def test_policies_are_checked_as_harbor_checks_them(client: Client, upstream: Distribution) -> None:
    registry_id = _register(client, upstream)
    cases = [({"name": ""}, "empty name"),
             ({"src_registry": {"id": 0}}, "either src_registry or dest_registry"),
             ({"dest_registry": {"id": registry_id}, "filters": [{"type": "nope", "value": "x"}]},
              "invalid filter type"),
             ({"dest_registry": {"id": registry_id}, "filters": [{"type": "name", "value": "x",
                                                                  "decoration": "matches"}]},
              "only tag and label filter support decoration"),
             ({"dest_registry": {"id": registry_id}, "dest_namespace": "Bad Name"}, "invalid destination namespace"),
             ({"dest_registry": {"id": registry_id}, "trigger": {"type": "scheduled"}},
              "the cron string cannot be empty"),
             ({"dest_registry": {"id": registry_id}, "trigger": {"type": "later"}}, "invalid trigger type")]
    for fields, message in cases:
        reply = api(client, "POST", "/replication/policies", {"name": "p", **fields})
        assert reply.status == 400 and message in reply.body.decode(), (fields, reply.body)
    assert api(client, "GET", "/replication/policies").json() == []

    policy_id = _policy(client, dest_registry={"id": registry_id}, dest_namespace="mirror",
                        filters=[{"type": "name", "value": "library/**"},
                                 {"type": "tag", "value": "v*", "decoration": "matches"}],
                        trigger={"type": "scheduled", "trigger_settings": {"cron": "0 0 3 * * *"}})
    policy = api(client, "GET", f"/replication/policies/{policy_id}").json()
    # The swagger types a filter's value "object"; Harbor answers a string (a list for labels), as we do.
    validate({k: v for k, v in policy.items() if k != "filters"}, "ReplicationPolicy")
    assert policy["filters"][1] == {"type": "tag", "value": "v*", "decoration": "matches"}
    assert policy["dest_registry"]["id"] == registry_id and policy["src_registry"]["id"] == 0
    assert policy["dest_namespace_replace_count"] == -1  # Harbor's legacy mode when not given
    schedule = boto3.client("scheduler").get_schedule(Name=f"{settings().schedule_name_prefix}-replication-{policy_id}")
    assert schedule["ScheduleExpression"] == "cron(0 3 * * ? *)"
    assert json.loads(schedule["Target"]["Input"]) == {"kind": "replication_scheduled", "policy_id": policy_id}
    assert api(client, "POST", "/replication/policies", {"name": "p", "dest_registry": {"id": registry_id}}
               ).status == 409
    assert api(client, "DELETE", f"/replication/policies/{policy_id}").status == 200
    with pytest.raises(boto3.client("scheduler").exceptions.ResourceNotFoundException):
        boto3.client("scheduler").get_schedule(Name=f"{settings().schedule_name_prefix}-replication-{policy_id}")


def test_push_replication_copies_what_the_filters_select_under_the_new_namespace(client: Client,
                                                                                 upstream: Distribution) -> None:
    app, other = make_image("app", layer_bytes=3000), make_image("other")
    assert push_image(client, "library/app", "v1", app).status == 201
    assert push_image(client, "library/app", "dev", make_image("dev")).status == 201
    assert push_image(client, "library/other", "v1", other).status == 201
    push_cosign_signature(client, "library/app", app)
    registry_id = _register(client, upstream)
    policy_id = _policy(client, dest_registry={"id": registry_id}, dest_namespace="mirror",
                        dest_namespace_replace_count=1,
                        filters=[{"type": "name", "value": "library/app"},
                                 {"type": "tag", "value": "v*", "decoration": "matches"}])

    execution = _run(client, policy_id)

    assert execution["status"] == "Succeed", execution
    assert (execution["total"], execution["succeed"], execution["failed"]) == (1, 1, 0)
    assert execution["trigger"] == "manual"
    [task] = _tasks(client, execution["id"])
    assert task["src_resource"] == "library/app [2 item(s) in total]"
    assert task["dst_resource"] == "mirror/app [2 item(s) in total]"
    assert task["status"] == "Succeed"
    assert _digest_at(upstream, "mirror/app", "v1") == app.digest  # digests preserved
    assert _digest_at(upstream, "mirror/app", "dev") is None  # the tag filter left it out
    assert _digest_at(upstream, "mirror/other", "v1") is None  # the name filter left it out
    signature_tag = app.digest.replace("sha256:", "sha256-") + ".sig"
    assert _digest_at(upstream, "mirror/app", signature_tag) is not None  # the signature came along
    assert "blobs sent: 4," in _log(client, execution["id"], task["id"])

    again = _run(client, policy_id)  # nothing new: no blob is sent twice
    assert again["status"] == "Succeed"
    assert "blobs sent: 0," in _log(client, again["id"], _tasks(client, again["id"])[0]["id"])
    listed = api(client, "GET", f"/replication/executions?policy_id={policy_id}").json()
    assert [e["id"] for e in listed] == [again["id"], execution["id"]]


def test_pull_replication_brings_an_upstream_image_here(client: Client, upstream: Distribution) -> None:
    image = make_image("pulled", layer_bytes=2000)
    _seed(upstream, "team/tool", "1.0", image)
    registry_id = _register(client, upstream)
    policy_id = _policy(client, src_registry={"id": registry_id}, dest_namespace="mirrored",
                        dest_namespace_replace_count=1)

    execution = _run(client, policy_id)

    assert execution["status"] == "Succeed", execution
    reply = client.request("GET", "/v2/mirrored/tool/manifests/1.0", accept=[OCI_MANIFEST])
    assert reply.status == 200 and reply.header("Docker-Content-Digest") == image.digest
    assert client.request("HEAD", f"/v2/mirrored/tool/blobs/{sha256(image.layers[0])}").status == 200
    project = api(client, "GET", "/projects/mirrored").json()
    assert project["metadata"]["public"] == "false"  # created by replication, private


def test_what_replication_brings_is_scanned_on_push_where_the_project_asks(
        client: Client, upstream: Distribution, worker: LocalFunctions) -> None:
    _seed(upstream, "team/tool", "1.0", make_image("scanned"))
    assert api(client, "POST", "/projects", {"project_name": "scanned", "metadata": {"auto_scan": "true"}}
               ).status == 201
    registry_id = _register(client, upstream)

    assert _run(client, _policy(client, src_registry={"id": registry_id}, dest_namespace="scanned"))["status"] \
        == "Succeed"
    worker.drain()

    artifact = api(client, "GET", "/projects/scanned/repositories/tool/artifacts/1.0?with_scan_overview=true").json()
    [overview] = artifact["scan_overview"].values()
    assert overview["scan_status"] == "Success"


def test_a_failed_task_does_not_stop_the_others(client: Client, upstream: Distribution) -> None:
    good, broken = make_image("good"), make_image("broken")
    _seed(upstream, "team/good", "1", good)
    _seed(upstream, "team/broken", "1", broken)
    # The upstream loses a layer of one image: that task fails after its retries, the other succeeds.
    layer = sha256(broken.layers[0]).split(":")[1]
    assert HttpClient(upstream.url).request("DELETE", f"/v2/team/broken/blobs/sha256:{layer}").status == 202
    registry_id = _register(client, upstream)

    execution = _run(client, _policy(client, src_registry={"id": registry_id}, dest_namespace="copies"))

    assert execution["status"] == "Failed" and (execution["succeed"], execution["failed"]) == (1, 1)
    assert execution["status_text"] == "1 of 2 tasks failed"
    failed = next(t for t in _tasks(client, execution["id"]) if t["status"] == "Failed")
    assert "attempt 3 of 3 failed" in _log(client, execution["id"], failed["id"])
    assert client.request("HEAD", "/v2/copies/good/manifests/1").status == 200
    assert client.request("HEAD", "/v2/copies/broken/manifests/1").status == 404


def test_replication_into_a_proxy_cache_project_is_skipped(client: Client, upstream: Distribution) -> None:
    _seed(upstream, "team/tool", "1.0", make_image("tool"))
    registry_id = _register(client, upstream)
    assert api(client, "POST", "/projects", {"project_name": "hub", "registry_id": registry_id}).status == 201

    execution = _run(client, _policy(client, src_registry={"id": registry_id}, dest_namespace="hub"))

    assert execution["status"] == "Succeed" and execution["total"] == 0
    assert execution["status_text"] == "no resources need to be replicated"
    assert _tasks(client, execution["id"]) == []


def test_event_based_replication_follows_pushes_and_deletions(client: Client, upstream: Distribution,
                                                              local_functions: LocalFunctions) -> None:
    registry_id = _register(client, upstream)
    policy_id = _policy(client, dest_registry={"id": registry_id}, trigger={"type": "event_based"},
                        replicate_deletion=True, filters=[{"type": "name", "value": "library/live"}])
    image = make_image("live")

    assert push_image(client, "library/live", "v1", image).status == 201
    assert push_image(client, "library/ignored", "v1", make_image("ignored")).status == 201
    local_functions.drain()
    [execution] = api(client, "GET", f"/replication/executions?policy_id={policy_id}").json()
    assert _ended(client, execution["id"])["trigger"] == "event_based"
    assert _digest_at(upstream, "library/live", "v1") == image.digest

    assert client.request("DELETE", f"/v2/library/live/manifests/{image.digest}").status == 202
    local_functions.drain()
    deletion = api(client, "GET", f"/replication/executions?policy_id={policy_id}").json()[0]
    assert _ended(client, deletion["id"])["status"] == "Succeed"
    assert _tasks(client, deletion["id"])[0]["operation"] == "deletion"
    assert _digest_at(upstream, "library/live", "v1") is None


def test_a_proxy_cache_project_serves_upstream_images_and_keeps_them(client: Client, tmp_path: Path,
                                                                     local_functions: LocalFunctions) -> None:
    with distribution(tmp_path / "open", auth=False) as open_upstream:
        first = make_image("first", layer_bytes=4000)
        http = HttpClient(open_upstream.url, auth=None)
        seed(http, "library/app", "1", [first.config, *first.layers], first.manifest, OCI_MANIFEST)
        registry = api(client, "POST", "/registries", {"name": "open", "type": "docker-registry",
                                                       "url": open_upstream.url})
        registry_id = int(registry.header("Location").rsplit("/", 1)[1])
        api(client, "POST", "/users", {"username": "dev", "password": "Harbor12345", "email": "dev@example.com",
                                       "realname": "dev"})
        refused = api(client, "POST", "/projects", {"project_name": "hub", "registry_id": registry_id},
                      auth=("dev", "Harbor12345"))
        assert refused.status == 403 and "Only system admin can create proxy cache project" in refused.body.decode()
        assert api(client, "POST", "/projects", {"project_name": "hub", "registry_id": registry_id,
                                                 "metadata": {"public": "true"}}).status == 201
        project = api(client, "GET", "/projects/hub").json()
        assert project["registry_id"] == registry_id
        retention = api(client, "GET", f"/retentions/{project['metadata']['retention_id']}").json()
        assert retention["rules"][0]["params"] == {"nDaysSinceLastPull": 7}

        # The tag list is the upstream's (clients list tags before pulling), paged as ours.
        listed = client.request("GET", "/v2/hub/library/app/tags/list?n=1")
        assert listed.status == 200 and listed.json() == {"name": "hub/library/app", "tags": ["1"]}

        # A HEAD is answered from the upstream's HEAD alone: nothing is pulled or stored for it.
        headed = client.request("HEAD", "/v2/hub/library/app/manifests/1", accept=[OCI_MANIFEST])
        assert headed.status == 200 and headed.header("Docker-Content-Digest") == first.digest
        local_functions.drain()
        assert api(client, "GET", "/projects/hub/repositories/library%252Fapp/artifacts/1").status == 404

        # First pull: served from the upstream; the blob miss is sent to the upstream's own location.
        served = client.request("GET", "/v2/hub/library/app/manifests/1", accept=[OCI_MANIFEST])
        assert served.status == 200 and served.header("Docker-Content-Digest") == first.digest
        layer = sha256(first.layers[0])
        redirected = client.request("GET", f"/v2/hub/library/app/blobs/{layer}")
        assert redirected.status == 307 and redirected.header("Location").startswith(open_upstream.url)
        local_functions.drain()  # the queued job stores the artifact
        assert api(client, "GET", "/projects/hub/repositories/library%252Fapp/artifacts/1").status == 200

        # The upstream moves the tag: the HEAD sees it and the new image is served.
        second = make_image("second")
        seed(http, "library/app", "1", [second.config, *second.layers], second.manifest, OCI_MANIFEST)
        moved = client.request("GET", "/v2/hub/library/app/manifests/1", accept=[OCI_MANIFEST])
        assert moved.header("Docker-Content-Digest") == second.digest
        local_functions.drain()

        # Upstream down: what is stored is served, blobs from this registry's storage.
        open_upstream.stop()
        assert client.request("GET", "/v2/hub/library/app/tags/list").json()["tags"] == ["1"]  # what is stored
        cached = client.request("GET", "/v2/hub/library/app/manifests/1", accept=[OCI_MANIFEST])
        assert cached.status == 200 and cached.header("Docker-Content-Digest") == second.digest
        assert client.request("GET", f"/v2/hub/library/app/manifests/{first.digest}",
                              accept=[OCI_MANIFEST]).status == 200
        blob = client.request("GET", f"/v2/hub/library/app/blobs/{sha256(second.layers[0])}")
        assert blob.status == 307 and not blob.header("Location").startswith(open_upstream.url)

        mine = make_image("mine")
        upload = client.request("POST", "/v2/hub/library/mine/blobs/uploads/")
        manifest = client.request("PUT", "/v2/hub/library/app/manifests/2", body=mine.manifest,
                                  headers={"Content-Type": OCI_MANIFEST})
        for pushed in (upload, manifest):
            assert pushed.status == 403 and pushed.error_codes == ["DENIED"]
            assert "can not push artifact to a proxy project: hub" in pushed.body.decode()


def test_replication_calls_are_for_system_admins(client: Client) -> None:
    api(client, "POST", "/users", {"username": "dev", "password": "Harbor12345", "email": "dev@example.com",
                                   "realname": "dev"})
    for method, path in (("GET", "/registries"), ("GET", "/replication/policies"),
                         ("GET", "/replication/executions"), ("GET", "/replication/adapters")):
        assert api(client, method, path, auth=("dev", "Harbor12345")).status == 403
        assert api(client, method, path, auth=None).status == 401


def test_a_tag_gone_upstream_is_gone_from_the_proxy_cache_too(client: Client, tmp_path: Path,
                                                               local_functions: LocalFunctions) -> None:
    with distribution(tmp_path / "open", auth=False) as open_upstream:
        image = make_image("short-lived")
        http = HttpClient(open_upstream.url, auth=None)
        seed(http, "library/app", "1", [image.config, *image.layers], image.manifest, OCI_MANIFEST)
        registry = api(client, "POST", "/registries", {"name": "open", "type": "docker-registry",
                                                       "url": open_upstream.url})
        registry_id = int(registry.header("Location").rsplit("/", 1)[1])
        assert api(client, "POST", "/projects", {"project_name": "hub", "registry_id": registry_id}).status == 201
        assert client.request("GET", "/v2/hub/library/app/manifests/1", accept=[OCI_MANIFEST]).status == 200
        local_functions.drain()
        assert api(client, "GET", "/projects/hub/repositories/library%252Fapp/artifacts/1").status == 200

        assert http.request("DELETE", f"/v2/library/app/manifests/{image.digest}").status == 202

        gone = client.request("GET", "/v2/hub/library/app/manifests/1", accept=[OCI_MANIFEST])
        assert gone.status == 404 and gone.error_codes == ["MANIFEST_UNKNOWN"]
        assert api(client, "GET", "/projects/hub/repositories/library%252Fapp/artifacts/1").status == 404
        # The artifact itself stays until retention or garbage collection: by digest it is still served.
        assert client.request("GET", f"/v2/hub/library/app/manifests/{image.digest}",
                              accept=[OCI_MANIFEST]).status == 200


def test_a_stopped_execution_ends_its_tasks_stopped(client: Client, upstream: Distribution) -> None:
    for index in range(6):
        for tag in ("v1", "v2"):
            assert push_image(client, f"library/held{index}", tag, make_image(f"held{index}{tag}")).status == 201
    registry_id = _register(client, upstream)
    policy_id = _policy(client, dest_registry={"id": registry_id}, filters=[{"type": "name", "value": "library/held*"}])
    upstream.pause()  # the copies wait on the destination until the stop has been asked for
    started = api(client, "POST", "/replication/executions", {"policy_id": policy_id})
    execution_id = int(started.header("Location").rsplit("/", 1)[1])
    wait_until(lambda: len(_tasks(client, execution_id)) == 6, 120)

    assert api(client, "PUT", f"/replication/executions/{execution_id}").status == 200
    upstream.resume()

    wait_until(lambda: api(client, "GET", f"/replication/executions/{execution_id}").json()["in_progress"] == 0, 300)
    execution = api(client, "GET", f"/replication/executions/{execution_id}").json()
    assert execution["status"] == "Stopped" and execution["stopped"] == 6
    assert {t["status"] for t in _tasks(client, execution_id)} == {"Stopped"}
    # A running task finished the artifact it was copying; none went on to its second one.
    for index in range(6):
        assert [_digest_at(upstream, f"library/held{index}", tag) for tag in ("v1", "v2")].count(None) >= 1


def test_the_periodic_health_check_follows_the_registry(client: Client, upstream: Distribution,
                                                        local_functions: LocalFunctions) -> None:
    registry_id = _register(client, upstream)

    def status() -> str:
        return api(client, "GET", f"/registries/{registry_id}").json()["status"]

    upstream.stop()
    local_functions.invoke("ReplicationTaskFunction", {"step": "health"})  # what its 5-minute schedule sends
    assert status() == "unhealthy"
    upstream.start()
    local_functions.invoke("ReplicationTaskFunction", {"step": "health"})
    assert status() == "healthy"


def test_a_task_that_crashes_is_marked_failed_and_the_others_go_on(client: Client, upstream: Distribution) -> None:
    unreadable, fine = make_image("unreadable"), make_image("fine")
    assert push_image(client, "library/unreadable", "v1", unreadable).status == 201
    assert push_image(client, "library/fine", "v1", fine).status == 201
    layer = sha256(unreadable.layers[0]).split(":")[1]
    registry_id = _register(client, upstream)
    policy_id = _policy(client, dest_registry={"id": registry_id},
                        filters=[{"type": "name", "value": "library/{unreadable,fine}"}])

    # S3 refuses to read one layer: an error the copy does not expect, so its Lambda fails.
    with s3_refuses_to_read({f"blobs/sha256/{layer[:2]}/{layer}"}):
        execution = _run(client, policy_id)

    assert execution["status"] == "Failed" and (execution["succeed"], execution["failed"]) == (1, 1)
    crashed = next(t for t in _tasks(client, execution["id"]) if t["status"] == "Failed")
    assert crashed["src_resource"].startswith("library/unreadable")
    assert "the task failed" in _log(client, execution["id"], crashed["id"])
    assert _digest_at(upstream, "library/fine", "v1") == fine.digest


def test_label_filters_select_artifacts_by_their_labels(client: Client, upstream: Distribution) -> None:
    released, draft = make_image("released"), make_image("draft")
    assert push_image(client, "library/labelled", "1.0", released).status == 201
    assert push_image(client, "library/labelled", "2.0-rc", draft).status == 201
    label = api(client, "POST", "/labels", {"name": "release", "scope": "g", "color": "#00AA00"})
    label_id = int(label.header("Location").rsplit("/", 1)[1])
    assert api(client, "POST", "/projects/library/repositories/labelled/artifacts/1.0/labels",
               {"id": label_id}).status == 200
    registry_id = _register(client, upstream)
    name = {"type": "name", "value": "library/labelled"}

    matching = _run(client, _policy(client, name="only-released", dest_registry={"id": registry_id},
                                    dest_namespace="released", dest_namespace_replace_count=1,
                                    filters=[name, {"type": "label", "value": ["release"], "decoration": "matches"}]))
    excluding = _run(client, _policy(client, name="no-released", dest_registry={"id": registry_id},
                                     dest_namespace="drafts", dest_namespace_replace_count=1,
                                     filters=[name, {"type": "label", "value": ["release"],
                                                     "decoration": "excludes"}]))

    assert matching["status"] == excluding["status"] == "Succeed"
    assert _digest_at(upstream, "released/labelled", "1.0") == released.digest
    assert _digest_at(upstream, "released/labelled", "2.0-rc") is None
    assert _digest_at(upstream, "drafts/labelled", "2.0-rc") == draft.digest
    assert _digest_at(upstream, "drafts/labelled", "1.0") is None


def test_a_task_too_large_for_its_record_keeps_its_work_in_s3(client: Client, upstream: Distribution,
                                                              configure: Configure) -> None:
    configure(REPLICATION_TASK_INLINE_BYTES="10")  # every task's work is "too large" here
    image = make_image("large-work")
    assert push_image(client, "library/large-work", "v1", image).status == 201
    registry_id = _register(client, upstream)

    execution = _run(client, _policy(client, dest_registry={"id": registry_id},
                                     filters=[{"type": "name", "value": "library/large-work"}]))

    assert execution["status"] == "Succeed"
    kept = boto3.client("s3").list_objects_v2(Bucket=settings().bucket_name,
                                              Prefix=f"jobs/replication/{execution['id']}/work-")
    assert [o["Key"].rsplit("/", 1)[1] for o in kept.get("Contents", [])] == ["work-000001.json"]
    assert _digest_at(upstream, "library/large-work", "v1") == image.digest
