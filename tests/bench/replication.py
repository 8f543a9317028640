"""`make bench-replication`: replicating 100 artifacts (about 1 GB of distinct layers: one base layer
every image shares, and one layer of its own each) from this registry (`make run`) to Debian's
docker-registry, against `skopeo sync` of the same repositories to another docker-registry, in the same
run on the same machine. Prints wall time, MB/s, blobs sent and skipped, and the peak memory of one copy
task's code path (tracemalloc, in this process, on the largest artifact).

BENCH_REPLICATION_ARTIFACTS (100) and BENCH_REPLICATION_MB (1000) scale it down for a quick look."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
import tracemalloc
from datetime import datetime
from pathlib import Path

import requests

from tests.support.distribution import PASSWORD, USER, Distribution, distribution
from tests.support.images import Image, config_for, layer_tar, sha256, write_layout
from tests.support.stack import ADMIN, Stack, local_stack

REPOSITORIES = 20
MB = 1024 * 1024


def _images(artifacts: int, total_mb: int) -> list[tuple[str, str, Image]]:
    """(repository, tag, image): a shared base of a twentieth of the bytes, the rest split evenly."""
    base = layer_tar({"base.bin": os.urandom(max(total_mb // 20, 1) * MB)})
    own_bytes = max((total_mb * MB - len(base)) // artifacts, 1024)
    images = []
    for index in range(artifacts):
        layers = [base, layer_tar({f"own{index}.bin": os.urandom(own_bytes)})]
        images.append((f"bench/app{index % REPOSITORIES}", f"v{index // REPOSITORIES}",
                       Image(config_for(layers), layers)))
    return images


def _seed(stack: Stack, work: Path, images: list[tuple[str, str, Image]]) -> None:
    assert _api(stack, "POST", "/projects", {"project_name": "bench"}).status_code == 201
    for repository, tag, image in images:
        layout = write_layout(work / "layouts" / f"{repository.replace('/', '_')}_{tag}", {tag: image})
        subprocess.run(["skopeo", "copy", "--dest-tls-verify=false", "--dest-creds", ":".join(ADMIN),
                        f"oci:{layout}:{tag}", f"docker://{stack.host}/{repository}:{tag}"],
                       check=True, capture_output=True, timeout=600)
        shutil.rmtree(layout)


def _api(stack: Stack, method: str, path: str, body: object = None) -> requests.Response:
    return requests.request(method, f"{stack.url}/api/v2.0{path}", json=body, auth=ADMIN, timeout=60)


def _replicate(stack: Stack, target: Distribution) -> tuple[float, dict[str, int]]:
    registry = _api(stack, "POST", "/registries", {
        "name": "bench", "type": "docker-registry", "url": target.url,
        "credential": {"type": "basic", "access_key": USER, "access_secret": PASSWORD}})
    registry_id = int(registry.headers["Location"].rsplit("/", 1)[1])
    policy = _api(stack, "POST", "/replication/policies", {
        "name": "bench", "enabled": True, "dest_registry": {"id": registry_id}, "trigger": {"type": "manual"},
        "filters": [{"type": "name", "value": "bench/**"}]})
    policy_id = int(policy.headers["Location"].rsplit("/", 1)[1])
    started = _api(stack, "POST", "/replication/executions", {"policy_id": policy_id})
    execution_id = int(started.headers["Location"].rsplit("/", 1)[1])
    while (execution := _api(stack, "GET", f"/replication/executions/{execution_id}").json())["status"] == "InProgress":
        time.sleep(1)
    assert execution["status"] == "Succeed", execution
    seconds = (_time(execution["end_time"]) - _time(execution["start_time"]))
    totals = {"sent": 0, "skipped": 0, "bytes": 0}
    for task in _api(stack, "GET", f"/replication/executions/{execution_id}/tasks?page_size=100").json():
        log = _api(stack, "GET", f"/replication/executions/{execution_id}/tasks/{task['id']}/log").text
        found = re.search(r"blobs sent: (\d+), blobs skipped .*?: (\d+), bytes sent: (\d+)", log)
        assert found, log
        for key, value in zip(("sent", "skipped", "bytes"), found.groups(), strict=True):
            totals[key] += int(value)
    return seconds, totals


def _time(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def _skopeo_sync(stack: Stack, target: Distribution, work: Path) -> float:
    source = work / "sync.yaml"
    source.write_text(f"{stack.host}:\n  tls-verify: false\n  credentials:\n    username: {ADMIN[0]}\n"
                      f"    password: {ADMIN[1]}\n  images-by-tag-regex:\n" +
                      "".join(f"    bench/app{i}: '.*'\n" for i in range(REPOSITORIES)))
    started = time.perf_counter()
    subprocess.run(["skopeo", "sync", "--src", "yaml", "--dest", "docker", "--dest-tls-verify=false",
                    "--dest-creds", f"{USER}:{PASSWORD}", str(source), f"{target.host}"],
                   check=True, capture_output=True, timeout=3600)
    return time.perf_counter() - started


def _task_memory(stack: Stack, target: Distribution, repository: str, tag: str) -> int:
    """Peak traced memory of copying one artifact as a push task does (this registry's S3 to the
    distribution registry), run here against the stack's emulator."""
    from chalicelib import aws
    from chalicelib.config import settings
    from chalicelib.replication import endpoints
    from chalicelib.replication.copy import Transfer
    from chalicelib.replication.remote import Credential, RegistryClient
    from infra import resources

    os.environ.update({"AWS_ENDPOINT_URL": stack.emulator, "AWS_ACCESS_KEY_ID": "testing",
                       "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1", "REDIS_URL": ""})
    os.environ.update(resources.local_context("us-east-1").environment())
    settings.cache_clear()
    aws.reset()
    destination = endpoints.Remote(RegistryClient(target.url, Credential(USER, PASSWORD)), None)
    transfer = Transfer(endpoints.Local(), destination, lambda line: None)
    tracemalloc.start()
    transfer.artifact(repository, tag, f"memory/{repository}", [tag], override=True)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def main() -> None:
    if not shutil.which("skopeo") or not shutil.which("docker-registry"):
        print("skopeo or docker-registry missing: run `make system-tools`")
        return
    artifacts = int(os.environ.get("BENCH_REPLICATION_ARTIFACTS", "100"))
    total_mb = int(os.environ.get("BENCH_REPLICATION_MB", "1000"))
    work = Path(tempfile.mkdtemp(prefix="bench-replication-"))
    images = _images(artifacts, total_mb)
    distinct = sum({sha256(blob): len(blob) for _, _, image in images for blob in [image.config, *image.layers]}
                   .values())
    print(f"\n== replication of {artifacts} artifacts in {REPOSITORIES} repositories, {distinct / MB:,.0f} MB "
          "of distinct blobs, to docker-registry ==")
    with local_stack(work / "stack") as stack, distribution(work / "ours") as ours, \
            distribution(work / "skopeo") as theirs:
        started = time.perf_counter()
        _seed(stack, work, images)
        print(f"seeded by skopeo in {time.perf_counter() - started:.0f} s")
        seconds, totals = _replicate(stack, ours)
        sync_seconds = _skopeo_sync(stack, theirs, work)
        peak = _task_memory(stack, ours, *images[0][:2])
    print(f"{'':28} {'wall s':>8} {'MB/s':>8}")
    print(f"{'this registry (replication)':28} {seconds:8.1f} {distinct / MB / seconds:8.1f}")
    print(f"{'skopeo sync':28} {sync_seconds:8.1f} {distinct / MB / sync_seconds:8.1f}")
    print(f"ratio (replication / skopeo sync wall time): {seconds / sync_seconds:.2f}")
    print(f"blobs sent {totals['sent']}, skipped (already there or mounted) {totals['skipped']}, "
          f"{totals['bytes'] / MB:,.0f} MB sent")
    print(f"peak traced memory of one copy task (largest layer {max(len(b) for b in images[0][2].layers) / MB:.0f} MB):"
          f" {peak / MB:.1f} MB")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
