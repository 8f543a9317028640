"""Which of the template's functions the local stack is running in this thread, as Lambda knows which
function an instance belongs to: the gateway runs `APIHandler`, infra/functions.py the others.
The permissions test (tests/support/permissions.py) attributes each AWS call to its function by it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

current: ContextVar[str | None] = ContextVar("function", default=None)


@contextmanager
def running(function: str) -> Iterator[None]:
    token = current.set(function)
    try:
        yield
    finally:
        current.reset(token)
