"""Counts a user reads stay exact when real clients race: skopeo pushes of one image at once, pushers
racing deleters, and a thousand pulls of one tag at once."""

from __future__ import annotations

import contextlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests

from tests.e2e.conftest import Stack, run
from tests.support.images import make_image, write_layout
from tests.support.waiting import wait_until

CREDS = "admin:Harbor12345"


def _push(stack: Stack, layout: Path, repository: str, tag: str) -> None:
    run("skopeo", "copy", "--dest-tls-verify=false", "--dest-creds", CREDS, f"oci:{layout}:v1",
        f"docker://{stack.host}/library/{repository}:{tag}")


def _artifact_count(stack: Stack, repository: str) -> int:
    reply = stack.session().get(f"{stack.url}/api/v2.0/projects/library/repositories/{repository}")
    assert reply.status_code == 200, reply.text
    return reply.json()["artifact_count"]


def test_ten_pushes_of_one_image_count_one_artifact(stack: Stack, tmp_path: Path) -> None:
    layout = write_layout(tmp_path / "src", {"v1": make_image("raced")})
    with ThreadPoolExecutor(max_workers=10) as pool:
        list(pool.map(lambda i: _push(stack, layout, "raced", f"t{i}"), range(10)))
    assert _artifact_count(stack, "raced") == 1
    listed = stack.session().get(f"{stack.url}/api/v2.0/projects/library/repositories/raced/artifacts").json()
    assert len(listed) == 1 and len(listed[0]["tags"]) == 10


def test_pushers_racing_deleters_leave_the_count_true(stack: Stack, tmp_path: Path) -> None:
    image = make_image("churn")
    layout = write_layout(tmp_path / "src", {"v1": image})
    _push(stack, layout, "churn", "v1")
    session = stack.session()
    manifest_url = f"{stack.url}/v2/library/churn/manifests/{image.digest}"

    def delete(_: int) -> None:
        answer = session.delete(manifest_url)
        assert answer.status_code in (202, 404), answer.text

    with ThreadPoolExecutor(max_workers=8) as pool:
        work = [pool.submit(_push, stack, layout, "churn", "v1") for _ in range(4)]
        work += [pool.submit(delete, i) for i in range(4)]
        for job in work:
            job.result()
    present = session.head(manifest_url).status_code == 200
    assert _artifact_count(stack, "churn") == (1 if present else 0)
    # And it stays true from there: one more push makes exactly one artifact.
    _push(stack, layout, "churn", "v1")
    assert _artifact_count(stack, "churn") == 1


def test_a_thousand_concurrent_pulls_of_one_tag_are_each_counted_and_audited(stack: Stack, tmp_path: Path) -> None:
    layout = write_layout(tmp_path / "src", {"v1": make_image("popular")})
    _push(stack, layout, "popular", "v1")
    session = stack.session()
    token = session.get(f"{stack.url}/service/token?scope=repository:library/popular:pull").json()["token"]

    def pull(_: int) -> int:
        return requests.get(f"{stack.url}/v2/library/popular/manifests/v1", timeout=120,
                            headers={"Authorization": f"Bearer {token}",
                                     "Accept": "application/vnd.oci.image.manifest.v1+json"}).status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        assert set(pool.map(pull, range(1000))) == {200}
    # Written by the pull recorder in batches, after the pulls were answered.
    def counted() -> tuple[int, int]:
        return _repository(stack, "popular")["pull_count"], _pull_records(stack, "popular")

    # A bound of 15 minutes: on a loaded machine CI twice saw the last batches counted some 5 minutes
    # late (the pull queue's messages are kept, so nothing is lost; the delay is an open defect of the
    # local stack, docs/operations.md).
    with contextlib.suppress(AssertionError):
        wait_until(lambda: counted() == (1000, 1000), seconds=900, interval=0.5)
    assert counted() == (1000, 1000)  # what was counted, when it never was


def _repository(stack: Stack, repository: str) -> dict[str, Any]:
    reply = stack.session().get(f"{stack.url}/api/v2.0/projects/library/repositories/{repository}")
    assert reply.status_code == 200, reply.text
    return reply.json()


def _pull_records(stack: Stack, repository: str) -> int:
    """The pull records of this repository only: other tests' pulls are written when the recorder runs,
    which may be while this one waits."""
    query = f"operation%3Dpull%2Cresource%3D~library%2F{repository}%3A"
    reply = stack.session().get(f"{stack.url}/api/v2.0/audit-logs?q={query}&page_size=1")
    return int(reply.headers["X-Total-Count"])
