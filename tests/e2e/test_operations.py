"""Operations jobs against `make run` with real clients: garbage collection after skopeo deletes and
while skopeo pushes and pulls, and the upload purge of a skopeo push that failed halfway."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import run
from tests.support.images import Image, config_for, layer_tar, read_layout_blob, sha256, write_layout
from tests.support.stack import ADMIN, Stack, local_stack
from tests.support.waiting import wait_until

CREDS = ":".join(ADMIN)


@pytest.fixture(scope="module")
def ops_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """GC_TIME_WINDOW_HOURS=0: what nothing uses goes at once; UPLOAD_PURGE_AGE_HOURS=0: every upload
    session not being written is abandoned when the purge runs."""
    with local_stack(tmp_path_factory.mktemp("ops"),
                     env_extra={"GC_TIME_WINDOW_HOURS": "0", "UPLOAD_PURGE_AGE_HOURS": "0"}) as running:
        yield running


def _image(name: str, shared: bytes) -> Image:
    layers = [shared, layer_tar({f"{name}.bin": name.encode() * 2000})]
    return Image(config_for(layers), layers)


def _push(stack: Stack, tmp: Path, image: Image, target: str) -> None:
    source = write_layout(tmp / target.replace("/", "_").replace(":", "_"), {"t": image})
    run("skopeo", "copy", "--dest-tls-verify=false", "--dest-creds", CREDS, f"oci:{source}:t",
        f"docker://{stack.host}/{target}")


def _pulls_whole(stack: Stack, tmp: Path, image: Image, reference: str) -> bool:
    back = tmp / ("pulled-" + reference.replace("/", "_").replace(":", "_").replace("@", "_"))
    tmp.mkdir(parents=True, exist_ok=True)
    result = run("skopeo", "copy", "--src-tls-verify=false", "--src-creds", CREDS,
                 f"docker://{stack.host}/{reference}", f"oci:{back}:t", check=False)
    if result.returncode != 0:
        print(result.stderr)  # shown with a failing assertion
        return False
    return all(read_layout_blob(back, sha256(b)) == b for b in [image.config, *image.layers])


def _bucket(stack: Stack) -> str:
    return next(b["Name"] for b in stack.aws("s3").list_buckets()["Buckets"] if "-blobs-" in b["Name"])


def _stored(stack: Stack, digest: str) -> bool:
    s3, bucket = stack.aws("s3"), _bucket(stack)
    hex_digest = digest.split(":")[1]
    return bool(s3.list_objects_v2(Bucket=bucket, Prefix=f"blobs/sha256/{hex_digest[:2]}/{hex_digest}").get("Contents"))


def _gc(stack: Stack, **parameters: bool) -> int:
    session = stack.session()
    started = session.post(f"{stack.url}/api/v2.0/system/gc/schedule",
                           json={"schedule": {"type": "Manual"}, "parameters": parameters})
    assert started.status_code == 201, started.text
    return int(started.headers["Location"].rsplit("/", 1)[1])


def _status(stack: Stack, execution_id: int) -> str:
    return stack.session().get(f"{stack.url}/api/v2.0/system/gc/{execution_id}").json()["job_status"]


def _ended(stack: Stack, execution_id: int) -> str:
    wait_until(lambda: _status(stack, execution_id) != "Running", 300, interval=0.2)
    return _status(stack, execution_id)


def test_gc_after_skopeo_delete_frees_the_image_and_keeps_the_rest(ops_stack: Stack, tmp_path: Path) -> None:
    shared = layer_tar({"base.bin": b"base" * 5000})
    gone, kept = _image("gone", shared), _image("kept", shared)
    _push(ops_stack, tmp_path, gone, "library/gc:gone")
    _push(ops_stack, tmp_path, kept, "library/gc:kept")
    run("skopeo", "delete", "--tls-verify=false", "--creds", CREDS, f"docker://{ops_stack.host}/library/gc:gone")

    assert _ended(ops_stack, _gc(ops_stack)) == "Success"

    assert not _stored(ops_stack, sha256(gone.layers[1])) and not _stored(ops_stack, sha256(gone.config))
    assert _stored(ops_stack, sha256(shared))
    assert _pulls_whole(ops_stack, tmp_path, kept, "library/gc:kept")


def test_gc_while_skopeo_pushes_and_pulls_loses_nothing(ops_stack: Stack, tmp_path: Path) -> None:
    shared = layer_tar({"base.bin": b"common" * 5000})
    kept = [_image(f"kept{n}", shared) for n in range(3)]
    for n, image in enumerate(kept):
        _push(ops_stack, tmp_path, image, f"library/busy:kept{n}")
    for n in range(3):
        garbage = _image(f"garbage{n}", shared)
        _push(ops_stack, tmp_path, garbage, f"library/busy:garbage{n}")
        run("skopeo", "delete", "--tls-verify=false", "--creds", CREDS,
            f"docker://{ops_stack.host}/library/busy:garbage{n}")

    execution_id = _gc(ops_stack)
    pushed: list[Image] = []
    pulled_whole: list[bool] = []

    def push_while_running() -> None:  # at least one push, then more while the run goes on
        n = 0
        while n == 0 or _status(ops_stack, execution_id) == "Running":
            image = _image(f"new{n}", shared)
            _push(ops_stack, tmp_path, image, f"library/busy:new{n}")
            pushed.append(image)
            n += 1

    def pull_while_running() -> None:
        n = 0
        while n == 0 or _status(ops_stack, execution_id) == "Running":
            image = kept[n % 3]
            pulled_whole.append(_pulls_whole(ops_stack, tmp_path / f"round{n}", image, f"library/busy:kept{n % 3}"))
            n += 1

    workers = [threading.Thread(target=push_while_running), threading.Thread(target=pull_while_running)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert _ended(ops_stack, execution_id) == "Success"
    assert pulled_whole and all(pulled_whole)
    print(f"during the run: {len(pushed)} pushes, {len(pulled_whole)} pulls")
    assert _ended(ops_stack, _gc(ops_stack)) == "Success"  # a second run finds the new images in use
    for n, image in enumerate(pushed):
        assert _pulls_whole(ops_stack, tmp_path / "after", image, f"library/busy:new{n}")
    for n, image in enumerate(kept):
        assert _pulls_whole(ops_stack, tmp_path / "after", image, f"library/busy:kept{n}")


def test_upload_purge_removes_what_a_failed_skopeo_push_left(ops_stack: Stack, tmp_path: Path) -> None:
    image = _image("broken", layer_tar({"big.bin": b"x" * 3_000_000}))
    source = write_layout(tmp_path / "broken", {"t": image})
    layer = source / "blobs" / "sha256" / sha256(image.layers[1]).split(":")[1]
    layer.write_bytes(b"\0" * len(image.layers[1]))  # the same size, other bytes: skopeo stops mid-upload
    failed = run("skopeo", "copy", "--dest-tls-verify=false", "--dest-creds", CREDS, f"oci:{source}:t",
                 f"docker://{ops_stack.host}/library/broken:t", check=False)
    assert failed.returncode != 0
    dynamodb = ops_stack.aws("dynamodb")
    table = next(t for t in dynamodb.list_tables()["TableNames"] if t.endswith("-metadata"))

    def sessions() -> int:
        found = dynamodb.scan(TableName=table, FilterExpression="begins_with(PK, :p)",
                              ExpressionAttributeValues={":p": {"S": "UPLOAD#"}})
        return len(found["Items"])

    assert sessions() >= 1

    answer = ops_stack.aws("lambda").invoke(FunctionName="harbor-serverless-upload-purge", Payload=b"{}")
    counts = json.loads(answer["Payload"].read())

    assert counts["purged"] >= 1 and sessions() == 0
    s3, bucket = ops_stack.aws("s3"), _bucket(ops_stack)
    assert not s3.list_objects_v2(Bucket=bucket, Prefix="uploads/").get("Contents")
    assert not s3.list_multipart_uploads(Bucket=bucket, Prefix="uploads/").get("Uploads")
