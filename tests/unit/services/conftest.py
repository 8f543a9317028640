"""Fast service tests: the services and their stores run on the in-memory metadata table (the fake that
passes the table's contract tests, tests/unit/test_table_contract.py), with no AWS at all."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib import aws
from chalicelib.store import metadata
from tests.support.memory_table import MemoryTable


def _no_aws(service: str, *args: Any, **kwargs: Any) -> Any:
    raise AssertionError(f"a service test reached AWS ({service}): that service needs the emulated stack")


@pytest.fixture(autouse=True)
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[MemoryTable]:
    monkeypatch.setenv("PASSWORD_ITERATIONS", "1000")  # hashing is not what these tests are about
    monkeypatch.setattr(aws._session, "client", _no_aws)
    aws.reset()
    memory = MemoryTable()
    previous = metadata.use(memory)
    yield memory
    metadata.use(previous)
    aws.reset()
