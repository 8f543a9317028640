"""`make run`'s saves to DATA_DIR under faults a user's disk can have: a save that fails is shown by
/health and retried until one succeeds, and what a crash leaves half-written never stops a start."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import requests

from tests.e2e.conftest import push
from tests.support.images import OCI_MANIFEST, Image, make_image, sha256
from tests.support.stack import ADMIN, Stack, local_stack
from tests.support.waiting import wait_until


def _persistence(stack: Stack) -> dict[str, str]:
    health = requests.get(f"{stack.url}/api/v2.0/health", timeout=60).json()
    return next(c for c in health["components"] if c["name"] == "persistence")


def _pulled_whole(stack: Stack, name: str, tag: str, image: Image) -> bool:
    manifest = requests.get(f"{stack.url}/v2/{name}/manifests/{tag}", auth=ADMIN, timeout=60,
                            headers={"Accept": OCI_MANIFEST})
    blobs = [image.config, *image.layers]
    pulled = [requests.get(f"{stack.url}/v2/{name}/blobs/{sha256(b)}", auth=ADMIN, timeout=60).content for b in blobs]
    return manifest.status_code == 200 and manifest.content == image.manifest and pulled == blobs


def test_a_failed_save_shows_in_health_and_is_retried_until_one_succeeds(tmp_path: Path) -> None:
    data = tmp_path / "data"
    image = make_image("kept-through-a-failed-save", 50_000)
    with local_stack(tmp_path / "first", env_extra={"DATA_DIR": str(data), "SNAPSHOT_SECONDS": "1"}) as stack:
        wait_until(lambda: (data / "persistence.json").exists())
        assert _persistence(stack)["status"] == "healthy"
        content = data / "objects"
        content.rename(data / "objects.away")
        content.write_text("a file where the saves want a directory")  # every new object's file fails
        push(stack, tmp_path, image, "library/app:v1")
        wait_until(lambda: _persistence(stack)["status"] == "unhealthy")
        assert "failed" in _persistence(stack)["error"]
        content.unlink()
        (data / "objects.away").rename(content)
        wait_until(lambda: _persistence(stack)["status"] == "healthy")  # the next save went through
        assert stack.process is not None
        stack.process.send_signal(signal.SIGKILL)
        stack.process.wait()
    failures = [json.loads(line) for line in (tmp_path / "first" / "launcher.log").read_text().splitlines()
                if line.startswith("{") and "could not be saved" in line]
    assert failures and all("exception" in line for line in failures)  # logged, with the cause
    with local_stack(tmp_path / "second", env_extra={"DATA_DIR": str(data)}) as stack:
        assert _pulled_whole(stack, "library/app", "v1", image)


def test_what_a_crash_leaves_half_written_never_stops_a_start(tmp_path: Path) -> None:
    data = tmp_path / "data"
    image = make_image("kept-through-leftovers", 50_000)
    with local_stack(tmp_path / "first", env_extra={"DATA_DIR": str(data)}) as stack:
        push(stack, tmp_path, image, "library/app:v1")
    # What a save killed at its worst moments leaves: a half-written index and content files no index names.
    (data / ".snapshot.pickle.tmp").write_bytes(b"\x80\x04half an index")
    (data / "objects" / "zz").mkdir()
    (data / "objects" / "zz" / "unnamed").write_bytes(b"bytes of an object the next index never named")
    with local_stack(tmp_path / "second", env_extra={"DATA_DIR": str(data)}) as stack:
        assert "(restored)" in stack.log.read_text()
        assert _pulled_whole(stack, "library/app", "v1", image)
        assert not (data / ".snapshot.pickle.tmp").exists() and not (data / "objects" / "zz" / "unnamed").exists()
