"""In-process stack: moto's in-memory AWS with the resources of infra/template.yaml and the bootstrap
(built once, reset before each test: tests/support/emulated_aws.py), and the Chalice app invoked
through the local API Gateway's proxy events (tests/support/client.py)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from chalicelib import aws
from chalicelib.config import settings
from chalicelib.store import cache
from infra import functions, gateway, resources
from infra.cache_server import RedisServer
from tests.support.client import Client
from tests.support.emulated_aws import EmulatedAws

ROOT = Path(__file__).resolve().parents[2]


class Emulators:
    """The session's emulated AWS, built on first use; a test that builds its own stops it first."""

    def __init__(self) -> None:
        self._running: EmulatedAws | None = None

    def running(self) -> EmulatedAws:
        if self._running is None:
            self._running = EmulatedAws(os.environ["AWS_DEFAULT_REGION"])
        return self._running

    def stop(self) -> None:
        if self._running is not None:
            self._running.close()
            self._running = None


@pytest.fixture(scope="session")
def emulators() -> Iterator[Emulators]:
    emulators = Emulators()
    yield emulators
    emulators.stop()


@pytest.fixture
def stack(emulators: Emulators) -> resources.Context:
    emulated = emulators.running()
    emulated.reset()
    return emulated.context


@pytest.fixture
def own_emulator(emulators: Emulators) -> None:
    """For a test that starts moto and creates the template's resources itself."""
    emulators.stop()


@pytest.fixture
def local_functions(stack: resources.Context) -> functions.LocalFunctions:
    """The template's functions in-process: `drain()` delivers what the queues hold (pull bookkeeping)."""
    return functions.LocalFunctions(stack)


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


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def cached(stack: resources.Context, redis_server: RedisServer,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[RedisServer]:
    """The cache on, on an empty redis-server of the session's own. Timeouts are long: a test that
    counts cache hits must not see a slow answer on a busy machine as Redis being down."""
    if redis_server.process is None:  # a test killed it
        redis_server.start()
    redis_server.client().flushall()
    monkeypatch.setenv("REDIS_URL", redis_server.url)
    monkeypatch.setenv("CACHE_TIMEOUT_SECONDS", "10")
    aws.reset()
    cache.reset()
    yield redis_server
    redis_server.thaw()  # a test that froze it and failed
    cache.reset()


Configure = Callable[..., None]


@pytest.fixture
def configure(monkeypatch: pytest.MonkeyPatch) -> Iterator[Configure]:
    """`configure(NAME="value", ...)`: settings from the environment for this test (chalicelib/config.py
    reads them once; the cache is cleared on the way in and out)."""
    def set_environment(**variables: str) -> None:
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        settings.cache_clear()

    yield set_environment
    settings.cache_clear()
