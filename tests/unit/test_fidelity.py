"""How Harbor's own clients see answers: refusals on /v2/, empty answers, OCI's tag parameter, a
cross-repository mount without the source's scope, and health."""

from __future__ import annotations

import boto3

from chalicelib.config import settings
from tests.support.client import Client, Reply, api
from tests.support.images import make_image, sha256
from tests.support.oci import push_image, upload_blob

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def _robot(client: Client, project: str, actions: tuple[str, ...]) -> tuple[str, str]:
    created = api(client, "POST", "/robots", {"name": "ci", "level": "project", "duration": -1, "permissions": [
        {"kind": "project", "namespace": project, "access": [{"resource": "repository", "action": a}
                                                           for a in actions]}]}).json()
    return created["name"], created["secret"]


def _refusal(reply: Reply) -> str:
    assert reply.status == 401, reply.body
    assert reply.error_codes == ["UNAUTHORIZED"]
    return reply.json()["errors"][0]["message"]


def test_refusals_on_v2_carry_harbors_messages(client: Client) -> None:
    api(client, "POST", "/projects", {"project_name": "a"})
    api(client, "POST", "/projects", {"project_name": "b"})
    push_image(client, "b/alpine", "v1", make_image("b's"))
    robot = _robot(client, "a", ("pull", "push"))
    pushed = client.request("POST", "/v2/b/alpine/blobs/uploads/", auth=robot)
    assert _refusal(pushed) == "unauthorized to access repository: b/alpine, action: push"
    assert pushed.header("Www-Authenticate") == 'Basic realm="harbor"'
    pulled = client.request("GET", "/v2/b/alpine/manifests/v1", auth=robot)
    assert _refusal(pulled) == "unauthorized to access repository: b/alpine, action: pull"
    token = client.request("GET", "/service/token?scope=repository:b/alpine:pull,push", auth=robot).json()["token"]
    assert _refusal(client.request("GET", "/v2/b/alpine/manifests/v1", token=token)) == (
        "unauthorized to access repository: b/alpine, action: pull")
    anonymous = client.request("GET", "/v2/b/alpine/manifests/v1", auth=None)
    assert _refusal(anonymous) == "unauthorized to access repository: b/alpine, action: pull"
    assert anonymous.header("Www-Authenticate").startswith("Bearer ")
    catalog = client.request("GET", "/v2/_catalog", auth=robot)
    assert _refusal(catalog) == "unauthorized to list catalog"


def test_a_disabled_robots_login_gets_an_empty_401(client: Client) -> None:
    robot = _robot(client, "library", ("pull",))
    robot_id = api(client, "GET", "/robots").json()[0]["id"]
    assert api(client, "PUT", f"/robots/{robot_id}", {"disable": True}).status == 200
    login = client.request("GET", "/service/token?service=harbor-registry", auth=robot)
    assert login.status == 401 and login.body == b"" and login.header("Www-Authenticate") == 'Basic realm="harbor"'


def test_empty_answers_carry_no_content_type(client: Client) -> None:
    created = api(client, "POST", "/projects", {"project_name": "plain"})
    assert created.status == 201 and created.body == b"" and created.header("Content-Type") is None
    updated = api(client, "PUT", "/projects/plain", {"metadata": {"auto_scan": "false"}})
    assert updated.status == 200 and updated.header("Content-Type") is None
    image = make_image("plain")
    pushed = push_image(client, "plain/app", "v1", image)
    assert pushed.status == 201 and pushed.header("Content-Type") is None
    deleted = client.request("DELETE", "/v2/plain/app/manifests/v1")
    assert deleted.status == 202 and deleted.header("Content-Type") is None


def test_put_by_digest_with_tag_parameters(client: Client) -> None:
    image = make_image("tagged")
    for blob in (image.config, *image.layers):
        upload_blob(client, "library/app", blob)
    reply = client.request("PUT", f"/v2/library/app/manifests/{image.digest}?tag=a&tag=b", body=image.manifest,
                           headers={"Content-Type": OCI_MANIFEST})
    assert reply.status == 201
    assert sorted(v for k, v in reply.headers if k.lower() == "oci-tag") == ["a", "b"]
    assert client.request("GET", "/v2/library/app/tags/list").json()["tags"] == ["a", "b"]
    bad = client.request("PUT", f"/v2/library/app/manifests/{image.digest}?tag=ok&tag=bad%0A", body=image.manifest,
                         headers={"Content-Type": OCI_MANIFEST})
    assert bad.status == 400
    assert client.request("GET", "/v2/library/app/tags/list").json()["tags"] == ["a", "b"]


def test_a_mount_without_the_sources_scope_challenges_for_both(client: Client) -> None:
    layer = b"shared layer"
    upload_blob(client, "library/source", layer)
    token = client.request("GET", "/service/token?scope=repository:library/target:pull,push").json()["token"]
    reply = client.request("POST", f"/v2/library/target/blobs/uploads/?mount={sha256(layer)}&from=library/source",
                           token=token)
    assert reply.status == 401
    challenge = reply.header("Www-Authenticate")
    assert challenge.startswith("Bearer ")
    assert 'scope="repository:library/target:pull,push repository:library/source:pull"' in challenge
    both = client.request("GET", "/service/token?scope=repository:library/target:pull,push"
                                 "&scope=repository:library/source:pull").json()["token"]
    mounted = client.request("POST", f"/v2/library/target/blobs/uploads/?mount={sha256(layer)}&from=library/source",
                             token=both)
    assert mounted.status == 201


def test_health_reports_each_component(client: Client) -> None:
    health = api(client, "GET", "/health", auth=None).json()
    assert health["status"] == "healthy"
    assert {c["name"]: c["status"] for c in health["components"]} == {
        "core": "healthy", "database": "healthy", "registry": "healthy", "jobservice": "healthy"}
    boto3.client("sqs").delete_queue(QueueUrl=settings().scan_queue_url)
    broken = api(client, "GET", "/health", auth=None).json()
    assert broken["status"] == "unhealthy"
    assert {c["name"]: c["status"] for c in broken["components"]}["jobservice"] == "unhealthy"
