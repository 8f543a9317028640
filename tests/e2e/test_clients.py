"""oras-py artifacts, the docker CLI's `manifest` commands, and raw HTTP for what clients rarely
do on their own: chunked transfer encoding, out-of-order chunks, mounts, ranged blob reads."""

from __future__ import annotations

import base64
import json
import os
import shutil
from pathlib import Path

import pytest
import requests

from tests.e2e.conftest import ADMIN, Stack, oras_client, run
from tests.support.images import make_image, sha256, write_layout

MiB = 1024 * 1024


def test_oras_artifact_push_and_pull(stack: Stack, tmp_path: Path) -> None:
    artifact = tmp_path / "notes.txt"
    artifact.write_bytes(b"release notes\n" * 1000)
    client = oras_client(stack)
    response = client.push(files=[str(artifact)], target=f"{stack.host}/library/artifact:v1",
                           disable_path_validation=True)
    assert response.status_code == 201
    pulled = client.pull(target=f"{stack.host}/library/artifact:v1", outdir=str(tmp_path / "out"))
    assert [Path(p).read_bytes() for p in pulled] == [artifact.read_bytes()]


def test_oras_chunked_push(stack: Stack, tmp_path: Path) -> None:
    artifact = tmp_path / "big.bin"
    artifact.write_bytes(os.urandom(7 * MiB))
    client = oras_client(stack)
    client.push(files=[str(artifact)], target=f"{stack.host}/library/chunked:v1", do_chunked=True,
                chunk_size=MiB, disable_path_validation=True)
    pulled = client.pull(target=f"{stack.host}/library/chunked:v1", outdir=str(tmp_path / "out"))
    assert sha256(Path(pulled[0]).read_bytes()) == sha256(artifact.read_bytes())


@pytest.mark.skipif(shutil.which("docker") is None, reason="the docker CLI is not installed")
def test_docker_manifest_create_and_push_an_index_with_mounts(tls_stack: Stack, tmp_path: Path) -> None:
    amd, arm = make_image("docker-amd"), make_image("docker-arm")
    for name, image in (("amd", amd), ("arm", arm)):
        source = write_layout(tmp_path / name, {"v1": image})
        run("skopeo", "copy", "--dest-tls-verify=false", "--dest-creds", "admin:Harbor12345", "--format", "v2s2",
            f"oci:{source}:v1", f"docker://{tls_stack.host}/library/{name}:v1")
    config = tmp_path / "docker"
    config.mkdir()
    auth = base64.b64encode(b"admin:Harbor12345").decode()
    (config / "config.json").write_text(json.dumps({"auths": {tls_stack.host: {"auth": auth}}}))
    env = {"DOCKER_CONFIG": str(config)}
    listing = f"{tls_stack.host}/library/multi:latest"
    run("docker", "manifest", "create", "--insecure", listing, f"{tls_stack.host}/library/amd:v1",
        f"{tls_stack.host}/library/arm:v1", env=env)
    pushed = run("docker", "manifest", "push", "--insecure", listing, env=env)
    digest = pushed.stdout.strip().splitlines()[-1]
    raw = requests.get(f"{tls_stack.url}/v2/library/multi/manifests/latest", auth=ADMIN, verify=False, headers={
        "Accept": "application/vnd.docker.distribution.manifest.list.v2+json"}, timeout=30)
    assert raw.status_code == 200 and sha256(raw.content) == digest
    children = [m["digest"] for m in raw.json()["manifests"]]
    assert len(children) == 2
    # the children and their blobs reached library/multi by cross-repository mounts
    for child in children:
        manifest = requests.get(f"{tls_stack.url}/v2/library/multi/manifests/{child}", auth=ADMIN, verify=False,
                                timeout=30)
        assert manifest.status_code == 200
        layer = manifest.json()["layers"][0]["digest"]
        assert requests.head(f"{tls_stack.url}/v2/library/multi/blobs/{layer}", auth=ADMIN, verify=False,
                             timeout=30).ok


def _start_upload(session: requests.Session, stack: Stack, name: str) -> str:
    started = session.post(f"{stack.url}/v2/{name}/blobs/uploads/", timeout=30)
    assert started.status_code == 202
    return stack.url + started.headers["Location"]


def test_raw_chunked_transfer_encoding_and_out_of_order(stack: Stack) -> None:
    session = stack.session()
    data = os.urandom(6 * MiB)
    location = _start_upload(session, stack, "library/raw")
    streamed = session.patch(location, data=iter([data[:MiB], data[MiB:3 * MiB]]), timeout=30)
    assert streamed.status_code == 202 and streamed.headers["Range"] == f"0-{3 * MiB - 1}"
    location = stack.url + streamed.headers["Location"]
    skipped = session.patch(location, data=data[4 * MiB:], headers={
        "Content-Range": f"{4 * MiB}-{6 * MiB - 1}", "Content-Type": "application/octet-stream"}, timeout=30)
    assert skipped.status_code == 416 and skipped.headers["Range"] == f"0-{3 * MiB - 1}"
    done = session.put(f"{location}?digest={sha256(data)}", data=data[3 * MiB:], headers={
        "Content-Range": f"{3 * MiB}-{6 * MiB - 1}", "Content-Type": "application/octet-stream"}, timeout=30)
    assert done.status_code == 201, done.text
    pulled = session.get(f"{stack.url}/v2/library/raw/blobs/{sha256(data)}", timeout=30)
    assert pulled.history[0].status_code == 307
    assert sha256(pulled.content) == sha256(data)


def test_raw_blob_range_read_through_s3(stack: Stack) -> None:
    session = stack.session()
    data = os.urandom(100_000)
    session.post(f"{stack.url}/v2/library/ranged/blobs/uploads/?digest={sha256(data)}", data=data,
                 headers={"Content-Type": "application/octet-stream"}, timeout=30)
    redirect = session.get(f"{stack.url}/v2/library/ranged/blobs/{sha256(data)}", allow_redirects=False,
                           timeout=30)
    assert redirect.status_code == 307
    part = requests.get(redirect.headers["Location"], headers={"Range": "bytes=1000-1999"}, timeout=30)
    assert part.status_code == 206 and part.content == data[1000:2000]


def test_raw_cross_repository_mount(stack: Stack) -> None:
    session = stack.session()
    data = os.urandom(5000)
    session.post(f"{stack.url}/v2/library/mount-src/blobs/uploads/?digest={sha256(data)}", data=data, timeout=30)
    mounted = session.post(f"{stack.url}/v2/library/mount-dst/blobs/uploads/?mount={sha256(data)}"
                           "&from=library/mount-src", timeout=30)
    assert mounted.status_code == 201
    pulled = session.get(f"{stack.url}/v2/library/mount-dst/blobs/{sha256(data)}", timeout=30)
    assert pulled.content == data


def test_pull_counts_bytes_and_digest_match_for_a_pushed_image(stack: Stack, tmp_path: Path) -> None:
    image = make_image("raw-image", 2 * MiB)
    source = write_layout(tmp_path / "src", {"v1": image})
    run("skopeo", "copy", "--dest-tls-verify=false", "--dest-creds", "admin:Harbor12345",
        f"oci:{source}:v1", f"docker://{stack.host}/library/rawimage:v1")
    session = stack.session()
    manifest = session.get(f"{stack.url}/v2/library/rawimage/manifests/v1", timeout=30,
                           headers={"Accept": "application/vnd.oci.image.manifest.v1+json"})
    assert manifest.headers["Docker-Content-Digest"] == sha256(manifest.content) == image.digest
    for descriptor in [manifest.json()["config"], *manifest.json()["layers"]]:
        blob = session.get(f"{stack.url}/v2/library/rawimage/blobs/{descriptor['digest']}", timeout=30)
        assert sha256(blob.content) == descriptor["digest"]
