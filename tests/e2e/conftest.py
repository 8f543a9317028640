"""The local stack, started exactly as `make run` starts it (infra/launcher.py) on free ports."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import oras.client
import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
ADMIN = ("admin", "Harbor12345")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class Stack:
    host: str  # host:port, as image references name it
    log: Path

    scheme: str = "http"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}"

    def session(self, auth: tuple[str, str] | None = ADMIN) -> requests.Session:
        session = requests.Session()
        session.auth = auth
        return session


def start_stack(tmp: Path, *extra: str, env_extra: dict[str, str] | None = None) -> Iterator[Stack]:
    port, emulator = free_port(), free_port()
    log = tmp / "launcher.log"
    env = {k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL"}
    env.update({"POWERTOOLS_LOG_LEVEL": "INFO", **(env_extra or {})})
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "infra.launcher", "--port", str(port), "--emulator-port", str(emulator), *extra],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 90
    while b"Registry ready" not in log.read_bytes():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"launcher did not start:\n{log.read_text()}")
        time.sleep(0.2)
    try:
        yield Stack(f"127.0.0.1:{port}", log, "https" if "--tls" in extra else "http")
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    yield from start_stack(tmp_path_factory.mktemp("stack"))


@pytest.fixture(scope="session")
def tls_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The same stack over HTTPS with a self-signed certificate (the docker CLI never uses plain HTTP)."""
    yield from start_stack(tmp_path_factory.mktemp("tls"), "--tls")


@pytest.fixture(scope="session")
def limited_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The same stack with API Gateway/Lambda limits enforced by the local gateway."""
    yield from start_stack(tmp_path_factory.mktemp("limited"), "--enforce-aws-limits")


def run(*command: str, env: dict[str, str] | None = None, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(command, capture_output=True, text=True, timeout=300,
                            env={**os.environ, **(env or {})})
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def oras_client(stack: Stack) -> oras.client.OrasClient:
    client = oras.client.OrasClient(hostname=stack.host, insecure=True)
    client.auth.set_basic_auth(*ADMIN)
    return client
