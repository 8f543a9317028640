"""A project's pull policies (cosign signatures, vulnerability prevention) and the CVE allowlists,
as a docker client and Harbor's API clients see them."""

from __future__ import annotations

import time

from chalicelib.auth import users
from infra.functions import LocalFunctions
from tests.support.client import Client, Reply, api
from tests.support.images import make_image, sha256
from tests.support.oci import push_cosign_signature, push_image
from tests.support.vulnerable import alpine_318, no_packages

NOT_SIGNED = "The image is not signed in Cosign."
POLICY = ("cannot be pulled due to configured policy in 'Prevent images with vulnerability severity of "
          "\"Critical\" or higher from running.'")


def _violation(reply: Reply) -> str:
    assert reply.status == 412, reply.body
    assert reply.error_codes == ["PROJECTPOLICYVIOLATION"]
    return reply.json()["errors"][0]["message"]


def _pull(client: Client, name: str, reference: str, **kwargs: object) -> Reply:
    return client.request("GET", f"/v2/{name}/manifests/{reference}", **kwargs)


def _token(client: Client, scope: str, auth: tuple[str, str]) -> str:
    return client.request("GET", f"/service/token?scope={scope}", auth=auth).json()["token"]


def test_unsigned_images_are_refused_when_cosign_is_required(client: Client) -> None:
    api(client, "POST", "/projects", {"project_name": "signed", "metadata": {"enable_content_trust_cosign": "true"}})
    image = make_image("to sign")
    assert push_image(client, "signed/app", "v1", image).status == 201
    assert _violation(_pull(client, "signed/app", "v1")) == NOT_SIGNED
    assert client.request("HEAD", f"/v2/signed/app/manifests/{image.digest}").status == 412
    # cosign reads the manifest it signs: a push token with cosign's User-Agent passes.
    token = _token(client, "repository:signed/app:pull,push", ("admin", "Harbor12345"))
    assert _pull(client, "signed/app", "v1", token=token, headers={"User-Agent": "cosign/v2.2.0"}).status == 200
    assert _pull(client, "signed/app", "v1", token=token).status == 412
    signature = push_cosign_signature(client, "signed/app", image)
    assert _pull(client, "signed/app", "v1").status == 200
    assert _pull(client, "signed/app", sha256(signature)).status == 200  # the signature itself
    # The setting off again: nothing is checked.
    assert push_image(client, "signed/app", "v2", make_image("unsigned")).status == 201
    assert api(client, "PUT", "/projects/signed", {"metadata": {"enable_content_trust_cosign": "false"}}).status == 200
    assert _pull(client, "signed/app", "v2").status == 200


def test_vulnerable_images_are_refused_unless_allowlisted(client: Client, worker: LocalFunctions) -> None:
    api(client, "POST", "/projects", {"project_name": "safe", "metadata": {"prevent_vul": "true",
                                                                          "severity": "critical"}})
    assert push_image(client, "safe/alpine", "3.18", alpine_318()).status == 201
    assert push_image(client, "safe/empty", "1", no_packages()).status == 201
    assert _violation(_pull(client, "safe/alpine", "3.18")) == (
        f"current image without vulnerability scanning {POLICY} To continue with pull, please contact your "
        "project administrator for help.")
    for repository, tag in (("alpine", "3.18"), ("empty", "1")):
        assert api(client, "POST", f"/projects/safe/repositories/{repository}/artifacts/{tag}/scan").status == 202
    assert "\"Pending\" status of vulnerability scanning" in _violation(_pull(client, "safe/alpine", "3.18"))
    worker.drain()
    assert _violation(_pull(client, "safe/alpine", "3.18")) == (
        f"current image with 5 vulnerabilities {POLICY} To continue with pull, please contact your project "
        "administrator to exempt matched vulnerabilities through configuring the CVE allowlist.")
    assert _pull(client, "safe/empty", "1").status == 200

    # The system allowlist (reused by default) lets the one Critical finding through: High is below.
    assert api(client, "PUT", "/system/CVEAllowlist", {"items": [{"cve_id": "CVE-2099-0003"}]}).status == 200
    assert _pull(client, "safe/alpine", "3.18").status == 200
    # The project's own list, once it stops reusing the system's.
    assert api(client, "PUT", "/projects/safe", {"metadata": {"reuse_sys_cve_allowlist": "false"}}).status == 200
    assert _pull(client, "safe/alpine", "3.18").status == 412
    own = {"items": [{"cve_id": "CVE-2099-0003"}], "expires_at": int(time.time()) + 3600}
    assert api(client, "PUT", "/projects/safe", {"cve_allowlist": own}).status == 200
    assert api(client, "GET", "/projects/safe").json()["cve_allowlist"]["items"] == [{"cve_id": "CVE-2099-0003"}]
    assert _pull(client, "safe/alpine", "3.18").status == 200
    expired = {**own, "expires_at": int(time.time()) - 1}
    assert api(client, "PUT", "/projects/safe", {"cve_allowlist": expired}).status == 200
    assert "current image with 5 vulnerabilities" in _violation(_pull(client, "safe/alpine", "3.18"))
    # Lower the bar below everything found but the allowlisted: High now blocks too.
    assert api(client, "PUT", "/projects/safe", {"metadata": {"severity": "high"}}).status == 200
    assert "severity of \"High\" or higher" in _violation(_pull(client, "safe/alpine", "3.18"))


def test_scanners_bypass_vulnerability_prevention(client: Client) -> None:
    api(client, "POST", "/projects", {"project_name": "safe", "metadata": {"prevent_vul": "true",
                                                                          "severity": "low"}})
    assert push_image(client, "safe/alpine", "3.18", alpine_318()).status == 201
    robot = api(client, "POST", "/robots", {"name": "scanner", "level": "project", "duration": -1, "permissions": [
        {"kind": "project", "namespace": "safe", "access": [{"resource": "repository", "action": "pull"},
                                                           {"resource": "repository", "action": "scanner-pull"}]}]})
    credentials = (robot.json()["name"], robot.json()["secret"])
    token = _token(client, "repository:safe/alpine:pull", credentials)
    assert _pull(client, "safe/alpine", "3.18", token=token).status == 200
    assert _pull(client, "safe/alpine", "3.18").status == 412  # the admin is no scanner


def test_cve_allowlist_api(client: Client) -> None:
    users.create_user("alice", "Alice12345")
    alice = ("alice", "Alice12345")
    empty = api(client, "GET", "/system/CVEAllowlist", auth=alice)
    assert empty.status == 200 and empty.json()["items"] == [] and empty.json()["project_id"] == 0
    assert api(client, "GET", "/system/CVEAllowlist", auth=None).status == 401
    body = {"items": [{"cve_id": "CVE-2099-0001"}, {"cve_id": "CVE-2099-0002"}], "expires_at": 4102444800}
    assert api(client, "PUT", "/system/CVEAllowlist", body, auth=alice).status == 403
    assert api(client, "PUT", "/system/CVEAllowlist", body).status == 200
    stored = api(client, "GET", "/system/CVEAllowlist", auth=alice).json()
    assert stored["items"] == body["items"] and stored["expires_at"] == 4102444800
    duplicate = api(client, "PUT", "/system/CVEAllowlist", {"items": [{"cve_id": "CVE-1"}, {"cve_id": "CVE-1"}]})
    assert duplicate.status == 400 and "duplicate CVE ID" in duplicate.json()["errors"][0]["message"]
    assert api(client, "PUT", "/system/CVEAllowlist", {"items": "CVE-1"}).status == 400
    assert api(client, "GET", "/system/CVEAllowlist").json()["items"] == body["items"]  # unchanged
    # A project's list: written with PUT /projects, refused whole when any part is bad.
    bad = {"metadata": {"auto_scan": "true"}, "cve_allowlist": {"items": [{"cve_id": 7}]}}
    assert api(client, "PUT", "/projects/library", bad).status == 400
    assert "auto_scan" not in api(client, "GET", "/projects/library").json()["metadata"]
