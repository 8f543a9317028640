"""`make bench-scan`: scanning through the local stack (`make run`), and trivy alone as the peer.

For the two fixture images and a 200 MB image: the time from the end of a skopeo push (auto-scan on)
to the finished report as the API shows it; the scan job's own time (its log: the job's first and
last line) and trivy's time and peak memory inside it; and the same trivy run alone on the same
image from a local OCI layout, with the ratio of the job to that peer.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from datetime import datetime
from pathlib import Path

import requests

from chalicelib.scan import trivy
from tests.support.images import Image, config_for, layer_tar, write_layout
from tests.support.stack import ADMIN, Stack, local_stack
from tests.support.vulnerable import alpine_318, debian_12

GENERIC = "application/vnd.security.vulnerability.report; version=1.1"
MiB = 1024 * 1024
ROOT = Path(__file__).resolve().parents[2]
_JOB_LINE = re.compile(r"read from S3 in ([0-9.]+) s; trivy \S+ finished in ([0-9.]+) s, peak memory ([0-9]+) MiB")


def _big_alpine(size: int) -> Image:
    base = alpine_318()
    # Incompressible data, so the layer really is `size` bytes in S3 and on the scanner's disk.
    data = layer_tar({"opt/data.bin": os.urandom(size)})
    layers = [*base.layers, data]
    return Image(config_for(layers), layers)


def _stamp(line: str) -> float:
    return datetime.strptime(line.split(" ", 1)[0], "%Y-%m-%dT%H:%M:%S.%fZ").timestamp()


def _wait(stack: Stack, repository: str) -> tuple[float, dict]:
    url = f"{stack.url}/api/v2.0/projects/bench/repositories/{repository}/artifacts/t"
    while True:
        answer = requests.get(url, params={"with_scan_overview": "true"}, auth=ADMIN, timeout=30).json()
        overview = answer.get("scan_overview", {}).get(GENERIC)
        if overview and overview["scan_status"] not in ("Pending", "Running"):
            return time.perf_counter(), overview
        time.sleep(0.1)


def _alone(layout: Path, cache: Path) -> tuple[float, int]:
    """trivy by itself on the same image, with the same flags and DB: seconds and peak RSS (MiB)."""
    started = time.perf_counter()
    answer = subprocess.run(["/usr/bin/env", "time", "-f", "%M", trivy.binary(), "image", "--input", str(layout),
                             "--cache-dir", str(cache), "--cache-backend", "memory", "--skip-db-update",
                             "--skip-java-db-update", "--offline-scan", "--scanners", "vuln", "--format", "json",
                             "--quiet", "--output", "/dev/null"], capture_output=True, text=True, check=True)
    return time.perf_counter() - started, int(answer.stderr.strip().splitlines()[-1]) // 1024


def main() -> None:
    print("== scanning: push (auto-scan) to report through the local stack, vs trivy alone ==")
    if not shutil.which("skopeo"):
        print("skopeo missing: run `make system-tools`")
        return
    work = Path(tempfile.mkdtemp(prefix="bench-scan-"))
    cache = work / "trivy-cache"
    shutil.copytree(ROOT / "infra" / "trivy-db", cache)
    images = {"alpine 3.18": alpine_318(), "debian 12": debian_12(), "alpine + 200 MB": _big_alpine(200 * MiB)}
    rows = []
    with local_stack(work) as stack:
        created = requests.post(f"{stack.url}/api/v2.0/projects", auth=ADMIN, timeout=30,
                                json={"project_name": "bench", "metadata": {"auto_scan": "true"}})
        assert created.status_code == 201, created.text
        for number, (name, image) in enumerate(images.items()):
            layout = write_layout(work / f"image{number}", {"t": image})
            subprocess.run(["skopeo", "copy", "--dest-tls-verify=false", "--dest-creds", ":".join(ADMIN),
                            f"oci:{layout}:t", f"docker://{stack.host}/bench/image{number}:t"],
                           check=True, capture_output=True, timeout=900)
            pushed = time.perf_counter()
            reported, overview = _wait(stack, f"image{number}")
            log = requests.get(f"{stack.url}/api/v2.0/projects/bench/repositories/image{number}/artifacts/t/scan/"
                               f"{overview['report_id']}/log", auth=ADMIN, timeout=30).text.strip().splitlines()
            found = _JOB_LINE.search("\n".join(log))
            assert found, log
            read_seconds, trivy_seconds, trivy_mib = float(found.group(1)), float(found.group(2)), int(found.group(3))
            alone_seconds, alone_mib = _alone(layout, cache)
            rows.append((name, sum(len(b) for b in image.layers) / MiB, overview["scan_status"],
                         overview["summary"]["total"], reported - pushed, _stamp(log[-1]) - _stamp(log[0]),
                         read_seconds, trivy_seconds, trivy_mib, alone_seconds, alone_mib))
    print(f"{'image':16} {'MiB':>6} {'status':>8} {'vulns':>5} {'push->report s':>14} {'job s':>6} {'S3 read s':>9} "
          f"{'trivy s':>7} {'trivy MiB':>9} {'alone s':>7} {'alone MiB':>9} {'trivy/alone':>11}")
    for name, size, status, total, latency, job, read, t_s, t_mib, a_s, a_mib in rows:
        print(f"{name:16} {size:6.1f} {status:>8} {total:5d} {latency:14.2f} {job:6.2f} {read:9.2f} {t_s:7.2f} "
              f"{t_mib:9d} {a_s:7.2f} {a_mib:9d} {t_s / a_s:11.2f}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
