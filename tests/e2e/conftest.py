"""Fixtures: the local stack in three modes, and an oras-py client for it."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator

import oras.client
import pytest

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
