"""GET /v2/, Basic auth, the bearer challenge and /service/token."""

from __future__ import annotations

import base64
import json

import jwt

from chalicelib.auth import users
from chalicelib.projects import create_project
from tests.support.client import Client
from tests.support.images import make_image
from tests.support.oci import push_image


def _claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def test_base_answers_admin_with_api_version(client: Client) -> None:
    reply = client.request("GET", "/v2/")
    assert reply.status == 200
    assert reply.header("Docker-Distribution-API-Version") == "registry/2.0"


def test_anonymous_base_gets_bearer_challenge(client: Client) -> None:
    reply = client.request("GET", "/v2/", auth=None)
    assert reply.status == 401
    assert reply.error_codes == ["UNAUTHORIZED"]
    assert reply.header("Www-Authenticate") == (
        'Bearer realm="http://registry.test/service/token",service="harbor-registry"')


def test_repository_challenge_carries_scope(client: Client) -> None:
    reply = client.request("HEAD", "/v2/private/app/manifests/v1", auth=None)
    assert reply.status == 401
    assert 'scope="repository:private/app:pull"' in reply.header("Www-Authenticate")
    push = client.request("POST", "/v2/library/app/blobs/uploads/", auth=None)
    assert 'scope="repository:library/app:pull,push"' in push.header("Www-Authenticate")


def test_wrong_credentials_are_treated_as_anonymous_like_harbor(client: Client) -> None:
    for reply in (client.request("GET", "/v2/", auth=("admin", "wrong")),
                  client.request("GET", "/v2/", auth=("nobody", "x")),
                  client.request("GET", "/v2/", headers={"Authorization": "Basic !!!notbase64"}, auth=None)):
        assert reply.status == 401
        assert reply.header("Www-Authenticate") == 'Basic realm="harbor"'
    push_image(client, "library/app", "v1", make_image("public"))
    assert client.request("GET", "/v2/library/app/manifests/v1", auth=("admin", "wrong")).status == 200
    assert client.request("POST", "/v2/library/app/blobs/uploads/", auth=("admin", "wrong")).status == 401


def test_token_has_harbor_claims_and_carries_every_held_action(client: Client) -> None:
    reply = client.request("GET", "/service/token?service=harbor-registry&scope=repository:library/app:pull,push")
    assert reply.status == 200
    body = reply.json()
    assert body["expires_in"] == 1800
    assert body["token"] == body["access_token"]
    assert body["issued_at"].endswith("Z")
    claims = _claims(body["token"])
    assert claims["iss"] == "harbor-token-issuer"
    assert claims["sub"] == "admin"
    assert claims["aud"] == "harbor-registry"
    assert claims["exp"] - claims["iat"] == 1800
    assert claims["access"] == [{"type": "repository", "name": "library/app",
                                 "actions": ["pull", "push", "delete", "*"]}]
    assert jwt.get_unverified_header(body["token"])["alg"] == "RS256"


def test_anonymous_token_only_pulls_public_projects(client: Client) -> None:
    reply = client.request("GET", "/service/token?scope=repository:library/app:pull,push", auth=None)
    assert _claims(reply.json()["token"])["access"] == [
        {"type": "repository", "name": "library/app", "actions": ["pull"]}]
    missing = client.request("GET", "/service/token?scope=repository:nope/app:pull", auth=None)
    assert _claims(missing.json()["token"])["access"][0]["actions"] == []


def test_token_authorizes_pull_and_push(client: Client) -> None:
    token = client.request("GET", "/service/token?scope=repository:library/app:pull,push").json()["token"]
    image = make_image("token")
    assert push_image(client, "library/app", "v1", image, token=token).status == 201
    assert client.request("GET", "/v2/library/app/manifests/v1", token=token).status == 200
    other = client.request("GET", "/v2/library/other/manifests/v1", token=token)
    assert other.status == 401
    assert other.header("Www-Authenticate") == 'Basic realm="harbor"'  # Harbor's answer to a bad token


def test_pull_only_token_cannot_push_or_delete(client: Client) -> None:
    token = client.request("GET", "/service/token?scope=repository:library/app:pull", auth=None).json()["token"]
    assert client.request("POST", "/v2/library/app/blobs/uploads/", token=token).status == 401
    push_image(client, "library/app", "v1", make_image("x"))
    assert client.request("DELETE", "/v2/library/app/manifests/v1", token=token).status == 401
    assert client.request("GET", "/v2/library/app/manifests/v1", token=token).status == 200


def test_forged_and_tampered_tokens_are_rejected(client: Client) -> None:
    token = client.request("GET", "/service/token?scope=repository:library/app:pull", auth=None).json()["token"]
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["access"][0]["actions"] = ["pull", "push"]
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    forged = f"{header}.{forged_payload}.{signature}"
    assert client.request("POST", "/v2/library/app/blobs/uploads/", token=forged).status == 401
    assert client.request("GET", "/v2/", token="not-a-jwt").status == 401


def test_push_to_missing_project_is_refused_clearly(client: Client) -> None:
    reply = client.request("POST", "/v2/nosuchproject/app/blobs/uploads/")
    assert reply.status == 404
    assert reply.error_codes == ["NAME_UNKNOWN"]
    assert "project nosuchproject not found" in reply.json()["errors"][0]["message"]
    token = client.request("GET", "/service/token?scope=repository:nosuchproject/app:pull,push").json()["token"]
    via_token = client.request("POST", "/v2/nosuchproject/app/blobs/uploads/", token=token)
    assert via_token.error_codes == ["NAME_UNKNOWN"]


def test_anonymous_pulls_public_but_cannot_push(client: Client) -> None:
    push_image(client, "library/app", "v1", make_image("anon"))
    assert client.request("GET", "/v2/library/app/manifests/v1", auth=None).status == 200
    assert client.request("POST", "/v2/library/app/blobs/uploads/", auth=None).status == 401
    token = client.request("GET", "/service/token?scope=repository:library/app:pull", auth=None).json()["token"]
    assert client.request("GET", "/v2/library/app/manifests/v1", token=token).status == 200


def test_catalog_is_for_admins(client: Client) -> None:
    token = client.request("GET", "/service/token?scope=registry:catalog:*", auth=None).json()["token"]
    assert client.request("GET", "/v2/_catalog", token=token).status == 401
    admin_token = client.request("GET", "/service/token?scope=registry:catalog:*").json()["token"]
    assert client.request("GET", "/v2/_catalog", token=admin_token).status == 200


def test_users_are_denied_what_they_do_not_hold(client: Client) -> None:
    owner = users.create_user("owner", "Owner12345")
    create_project("private", owner_id=owner.user_id, owner_name="owner", public=False)
    users.create_user("stranger", "Stranger123")
    stranger = ("stranger", "Stranger123")
    assert push_image(client, "private/app", "v1", make_image("priv"), auth=("owner", "Owner12345")).status == 201
    for method, path in (("GET", "/v2/private/app/manifests/v1"), ("POST", "/v2/private/app/blobs/uploads/"),
                         ("DELETE", "/v2/private/app/manifests/v1"), ("GET", "/v2/private/app/tags/list")):
        reply = client.request(method, path, auth=stranger)
        assert reply.status == 401 and reply.error_codes == ["UNAUTHORIZED"], (method, path)  # as Harbor's v2auth
    assert client.request("POST", "/v2/library/app/blobs/uploads/", auth=stranger).error_codes == ["UNAUTHORIZED"]
    assert client.request("GET", "/v2/library/app/tags/list", auth=stranger).status == 404  # public: may pull
    assert client.request("GET", "/v2/_catalog", auth=stranger).error_codes == ["UNAUTHORIZED"]
    anonymous = client.request("GET", "/v2/private/app/manifests/v1", auth=None)
    assert anonymous.status == 401
    token = client.request("GET", "/service/token?scope=repository:private/app:pull,push", auth=stranger)
    assert _claims(token.json()["token"])["access"][0]["actions"] == []
    owner_token = client.request("GET", "/service/token?scope=repository:private/app:pull,push,delete",
                                 auth=("owner", "Owner12345"))
    assert _claims(owner_token.json()["token"])["access"][0]["actions"] == ["pull", "push", "delete", "*"]


def test_token_service_refuses_unknown_service_and_anonymous_login(client: Client) -> None:
    unknown = client.request("GET", "/service/token?service=other&scope=repository:library/app:pull")
    assert unknown.status == 400
    assert unknown.json()["errors"][0]["message"] == "Unable to handle service: other"
    login = client.request("GET", "/service/token?service=harbor-registry", auth=("admin", "wrong"))
    assert login.status == 401
    assert client.request("GET", "/service/token?service=harbor-registry").status == 200
    anonymous_with_scope = client.request("GET", "/service/token?scope=repository:library/app:pull",
                                          auth=("admin", "wrong"))
    assert _claims(anonymous_with_scope.json()["token"])["sub"] == ""
