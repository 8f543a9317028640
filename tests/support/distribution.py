"""The CNCF distribution registry (Debian's docker-registry) started by a test or a bench: filesystem
storage, optionally htpasswd Basic auth (admin / Harbor12345)."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.net import free_port, wait_for_http

USER, PASSWORD = "admin", "Harbor12345"


@dataclass
class Distribution:
    host: str  # host:port
    process: subprocess.Popen
    config: Path

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def stop(self) -> None:
        self.resume()  # a paused process would not see the signal
        self.process.terminate()
        self.process.wait(timeout=20)

    def pause(self) -> None:
        """Stopped, not gone: connections are accepted and wait until resume()."""
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.process.pid, signal.SIGCONT)

    def start(self) -> None:
        """Start it again on the same port and storage (an upstream that comes back)."""
        self.process = _serve(self.config)
        wait_for_http(f"{self.url}/v2/")


def _serve(config: Path) -> subprocess.Popen:
    return subprocess.Popen(["docker-registry", "serve", str(config)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


@contextmanager
def distribution(work: Path, *, auth: bool = True) -> Iterator[Distribution]:
    import bcrypt

    work.mkdir(parents=True, exist_ok=True)
    port = free_port()
    auth_section = ""
    if auth:
        hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=5)).decode()
        (work / "htpasswd").write_text(f"{USER}:{hashed}\n")
        auth_section = f"auth:\n  htpasswd:\n    realm: test\n    path: {work / 'htpasswd'}\n"
    config = work / "distribution.yml"
    config.write_text(
        f"version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {work / 'storage'}\n"
        f"  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n{auth_section}")
    running = Distribution(f"127.0.0.1:{port}", _serve(config), config)
    try:
        wait_for_http(f"{running.url}/v2/")
        yield running
    finally:
        if running.process.poll() is None:
            running.stop()


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)


class HttpClient:
    """A plain HTTP client of a registry with Basic auth, shaped like the in-process test client (for
    tests/support/oci.py): a test seeds or reads another registry with it."""

    def __init__(self, base_url: str, auth: tuple[str, str] | None = (USER, PASSWORD)) -> None:
        self.base_url, self.auth = base_url, auth

    def request(self, method: str, path: str, *, body: bytes = b"", headers: dict[str, str] | None = None,
                accept: list[str] | None = None) -> Answer:
        import requests

        sent = dict(headers or {})
        if accept:
            sent["Accept"] = ", ".join(accept)
        url = path if path.startswith("http") else self.base_url + path
        reply = requests.request(method, url, data=body or None, headers=sent, auth=self.auth, timeout=30,
                                 allow_redirects=False)
        return Answer(reply.status_code, dict(reply.headers), reply.content)


def seed(client: HttpClient, name: str, reference: str, blobs: list[bytes], manifest: bytes,
         media_type: str) -> None:
    """Push an image as a client does: each blob in one POST and PUT, then the manifest."""
    import hashlib

    for blob in blobs:
        started = client.request("POST", f"/v2/{name}/blobs/uploads/")
        assert started.status == 202, started.body
        location = started.header("Location") or ""
        digest = "sha256:" + hashlib.sha256(blob).hexdigest()
        put = client.request("PUT", f"{location}{'&' if '?' in location else '?'}digest={digest}", body=blob,
                             headers={"Content-Type": "application/octet-stream"})
        assert put.status == 201, put.body
    reply = client.request("PUT", f"/v2/{name}/manifests/{reference}", body=manifest,
                           headers={"Content-Type": media_type})
    assert reply.status == 201, reply.body
