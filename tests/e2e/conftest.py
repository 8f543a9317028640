"""Fixtures: the local stack in three modes, and an oras-py client for it."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import oras.client
import pytest
import requests

from tests.support.images import write_layout
from tests.support.stack import ADMIN, Stack, local_stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with local_stack(tmp_path_factory.mktemp("stack")) as running:
        yield running


@pytest.fixture(scope="session")
def tls_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The same stack over HTTPS with a self-signed certificate (the docker CLI never uses plain HTTP),
    switched on as the README says: TLS=1 make run."""
    with local_stack(tmp_path_factory.mktemp("tls"), env_extra={"TLS": "1"}) as running:
        yield running


@pytest.fixture(scope="session")
def limited_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The same stack with API Gateway/Lambda limits enforced by the local gateway."""
    with local_stack(tmp_path_factory.mktemp("limited"), "--enforce-aws-limits") as running:
        yield running


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


GENERIC = "application/vnd.security.vulnerability.report; version=1.1"


def push(stack: Stack, tmp_path: Path, image: Any, target: str) -> None:
    source = write_layout(tmp_path / target.replace("/", "_").replace(":", "_"), {"t": image})
    run("skopeo", "copy", "--dest-tls-verify=false", "--dest-creds", ":".join(ADMIN), f"oci:{source}:t",
        f"docker://{stack.host}/{target}")


def wait_for_report(stack: Stack, path: str, timeout: float = 300) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        reply = requests.get(f"{stack.url}/api/v2.0{path}/additions/vulnerabilities", auth=ADMIN, timeout=30)
        assert reply.status_code == 200, reply.text
        if reply.json():
            return reply.json()[GENERIC]
        assert time.monotonic() < deadline, f"no report for {path} after {timeout} s"
        time.sleep(0.5)
