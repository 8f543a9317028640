"""Registry benchmarks: what a pull costs, and how fast skopeo pushes and pulls compared with distribution.

1. In process, under moto: for a one-layer image, the AWS calls made by each request of a pull
   (HEAD manifest, GET manifest, HEAD blob, GET blob), by service, operation and DynamoDB key kind,
   with Basic auth and with a bearer token; and the handler latency (p50, p99) through the gateway
   emulation. moto answers in microseconds, so latency here is our own code's, not AWS's.
2. Wall time of `skopeo copy` pushing and pulling a 50 MB image against the local stack (`make run`)
   and against the CNCF distribution registry (Debian's docker-registry, filesystem storage,
   htpasswd Basic auth) in the same run, and the ratio.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.bench.measure import ADMIN_BASIC, InProcessClient, in_process_stack, measure, print_header, pull_requests
from tests.support.distribution import distribution
from tests.support.images import make_image, write_layout
from tests.support.oci import push_image
from tests.support.stack import local_stack

ROUNDS = 300
MiB = 1024 * 1024


def pull_costs() -> None:
    print("== AWS calls and handler latency per pull request (in process, moto) ==")
    with in_process_stack() as gw:
        admin = InProcessClient(gw)
        image = make_image("bench")
        push_image(admin, "library/bench", "v1", image)
        token_answer = admin.request("GET", "/service/token?scope=repository:library/bench:pull")
        bearer = "Bearer " + json.loads(token_answer.body)["token"]
        steps = pull_requests(image)
        for auth_name, authorization in (("bearer token", bearer), ("basic auth", ADMIN_BASIC)):
            client = InProcessClient(gw, authorization)
            print(f"-- {auth_name}")
            print_header()
            for label, method, path in steps:
                measure(client, label, method, path, ROUNDS)


def _timed(*command: str) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, timeout=600)
    return time.perf_counter() - started


@contextmanager
def _distribution(work: Path) -> Iterator[str]:
    """The CNCF distribution registry, filesystem storage, htpasswd Basic auth; yields host:port."""
    with distribution(work) as running:
        yield running.host


@contextmanager
def _ours(work: Path) -> Iterator[str]:
    with local_stack(work) as stack:
        yield stack.host


def push_pull_wall_time() -> None:
    print("\n== skopeo push/pull of a 50 MB one-layer image: this registry (make run) vs distribution ==")
    if not shutil.which("skopeo") or not shutil.which("docker-registry"):
        print("skopeo or docker-registry missing: run `make system-tools`")
        return
    work = Path(tempfile.mkdtemp(prefix="bench-"))
    # A new image per attempt: skopeo remembers blobs it has seen and would mount instead of pushing.
    layouts = [write_layout(work / f"image{i}", {"v1": make_image(f"fifty{i}", 50 * MiB)}) for i in range(3)]
    results: dict[str, tuple[float, float]] = {}
    for name, start in (("this registry", _ours), ("distribution", _distribution)):
        with start(work) as host:
            pushes, pulls = [], []
            for attempt, layout in enumerate(layouts):
                pushes.append(_timed("skopeo", "copy", "--dest-tls-verify=false", "--dest-creds", "admin:Harbor12345",
                                     f"oci:{layout}:v1", f"docker://{host}/library/fifty{attempt}:v1"))
                shutil.rmtree(work / "pulled", ignore_errors=True)
                pulls.append(_timed("skopeo", "copy", "--src-tls-verify=false", "--src-creds", "admin:Harbor12345",
                                    f"docker://{host}/library/fifty{attempt}:v1", f"oci:{work / 'pulled'}:v1"))
            results[name] = (statistics.median(pushes), statistics.median(pulls))
    print(f"{'registry':16} {'push s':>8} {'pull s':>8}   (median of 3)")
    for name, (push, pull) in results.items():
        print(f"{name:16} {push:8.2f} {pull:8.2f}")
    ours, theirs = results["this registry"], results["distribution"]
    print(f"{'ratio':16} {ours[0] / theirs[0]:8.2f} {ours[1] / theirs[1]:8.2f}   (this registry / distribution)")
    shutil.rmtree(work, ignore_errors=True)
