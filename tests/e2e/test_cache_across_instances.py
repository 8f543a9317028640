"""Two registries of one deployment: a second launcher process on the first one's AWS (its emulator)
and its Redis, as two Lambda instances share DynamoDB and ElastiCache and nothing else. What one
changes, the other's very next request sees, though both read through the cache."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import requests

from tests.e2e.conftest import push
from tests.support.images import make_image
from tests.support.stack import ADMIN, Stack, local_stack

MANIFEST = {"Accept": "application/vnd.oci.image.manifest.v1+json"}


@pytest.fixture(scope="module")
def second(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    log = stack.log.read_text()
    aws = re.search(r"AWS endpoint (http://[^)\s]+)", log)
    cache = re.search(r"Cache: redis-server on (\S+)", log)
    assert aws and cache, "the first stack runs its own emulator and Redis"
    with local_stack(tmp_path_factory.mktemp("second"),
                     env_extra={"AWS_ENDPOINT_URL": aws[1], "REDIS_URL": cache[1]}) as running:
        yield running


def _pull(stack: Stack, reference: str, auth: tuple[str, str] | None = None) -> requests.Response:
    return requests.get(f"{stack.url}/v2/across/app/manifests/{reference}", auth=auth, headers=MANIFEST, timeout=60)


def _cache_hits(stack: Stack) -> int:
    url = re.search(r"Cache: redis-server on (\S+)", stack.log.read_text())[1]  # type: ignore[index]
    return int(redis.Redis.from_url(url).info("stats")["keyspace_hits"])


def test_what_one_instance_changes_the_other_sees_at_once(stack: Stack, second: Stack, tmp_path: Path) -> None:
    admin = stack.session()
    assert admin.post(f"{stack.url}/api/v2.0/projects",
                      json={"project_name": "across", "metadata": {"public": "true"}}).status_code == 201
    first_image, second_image = make_image("across one"), make_image("across two")
    push(stack, tmp_path, first_image, "across/app:v1")
    assert _pull(second, "v1").headers["Docker-Content-Digest"] == first_image.digest
    hits = _cache_hits(stack)
    assert _pull(second, "v1").headers["Docker-Content-Digest"] == first_image.digest
    assert _cache_hits(stack) > hits  # the second instance answers from the cache

    push(stack, tmp_path, second_image, "across/app:v1")  # the tag moves on the first instance
    assert _pull(second, "v1").headers["Docker-Content-Digest"] == second_image.digest

    users = f"{stack.url}/api/v2.0/users"
    assert admin.post(users, json={"username": "acrossdev", "password": "Passw0rd!", "email": "a@example.com",
                                   "realname": "dev"}).status_code == 201
    members = f"{stack.url}/api/v2.0/projects/across/members"
    assert admin.post(members, json={"role_id": 2, "member_user": {"username": "acrossdev"}}).status_code == 201
    admin.put(f"{stack.url}/api/v2.0/projects/across", json={"metadata": {"public": "false"}}).raise_for_status()
    assert _pull(second, "v1").status_code == 401  # private now: anonymous pulls are refused
    assert _pull(second, "v1", ("acrossdev", "Passw0rd!")).status_code == 200
    member = next(m for m in admin.get(members).json() if m["entity_name"] == "acrossdev")
    admin.delete(f"{members}/{member['id']}").raise_for_status()
    assert _pull(second, "v1", ("acrossdev", "Passw0rd!")).status_code in (401, 403)

    deleted = admin.delete(f"{stack.url}/v2/across/app/manifests/{second_image.digest}")
    assert deleted.status_code == 202
    assert _pull(second, "v1", ADMIN).status_code == 404
    assert _pull(second, second_image.digest, ADMIN).status_code == 404
    assert _pull(second, first_image.digest, ADMIN).headers["Docker-Content-Digest"] == first_image.digest
