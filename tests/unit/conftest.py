"""In-process stack: moto's in-memory AWS, the resources of infra/template.yaml, the bootstrap, and
the Chalice app invoked through the local API Gateway's proxy events (no sockets)."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws

from chalicelib import aws
from chalicelib.auth import tokens
from infra import emulator, functions, gateway, resources

ROOT = Path(__file__).resolve().parents[2]

ADMIN = ("admin", "Harbor12345")


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        found = [v for k, v in self.headers if k.lower() == name.lower()]
        return found[-1] if found else None

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def error_codes(self) -> list[str]:
        return [e["code"] for e in self.json()["errors"]]


class Client:
    """Sends HTTP-shaped requests through the gateway emulation to the app."""

    def __init__(self, gw: gateway.Gateway) -> None:
        self.gateway = gw

    def request(self, method: str, path: str, *, body: bytes = b"", headers: dict[str, str] | None = None,
                auth: tuple[str, str] | None = ADMIN, token: str | None = None,
                accept: list[str] | None = None) -> Reply:
        sent = [("Host", "registry.test"), *(headers or {}).items()]
        if token:
            sent.append(("Authorization", f"Bearer {token}"))
        elif auth:
            sent.append(("Authorization", "Basic " + base64.b64encode(":".join(auth).encode()).decode()))
        sent += [("Accept", a) for a in accept or []]
        answer = self.gateway.invoke(method, path, sent, body)
        return Reply(answer.status, answer.headers, answer.body)


@pytest.fixture
def stack() -> Iterator[resources.Context]:
    # State machines run for real in the emulator; their Lambda tasks reach our handlers in-process.
    emulator.serialize_dynamodb()
    emulator.forget_model_instances()
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        aws.reset()
        tokens.forget_signing_key()
        context = resources.local_context(os.environ["AWS_DEFAULT_REGION"])
        resources.create_all(context)
        os.environ.update(context.environment())
        local = functions.LocalFunctions(context)
        local.dispatch_lambda_invocations()
        local.invoke("BootstrapFunction", {})  # as a deployment does: with that function's permissions
        yield context
        aws.reset()
        tokens.forget_signing_key()


@pytest.fixture
def worker(stack: resources.Context, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> functions.LocalFunctions:
    """The template's functions run in-process: `worker.drain()` runs the queued jobs (scans) now.
    trivy's DB is the offline fixture DB, put into S3 by the DB refresh job."""
    monkeypatch.setenv("TRIVY_DB_SOURCE", str(ROOT / "infra" / "trivy-db"))
    monkeypatch.setenv("TRIVY_CACHE_DIR", str(tmp_path / "trivy-cache"))
    aws.reset()
    local = functions.LocalFunctions(stack)
    local.invoke("TrivyDbFunction", {})
    return local


@pytest.fixture(scope="session")
def shared_gateway() -> gateway.Gateway:
    return gateway.Gateway(instances=1)


@pytest.fixture
def client(stack: None, shared_gateway: gateway.Gateway) -> Client:
    shared_gateway.enforce_limits = False
    return Client(shared_gateway)


def api(client: Client, method: str, path: str, body: Any = None, **kwargs: Any) -> Reply:
    """A Harbor API call: JSON body, path under /api/v2.0."""
    headers = {"Content-Type": "application/json", **kwargs.pop("headers", {})}
    raw = json.dumps(body).encode() if body is not None else b""
    return client.request(method, f"/api/v2.0{path}", body=raw, headers=headers, **kwargs)
