"""Waiting for a condition, never for a duration (the tests run on a busy machine)."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_until(condition: Callable[[], bool], seconds: float = 300, interval: float = 0.05) -> None:
    """Return once `condition()` holds; fail after `seconds` (a bound for a broken run, not a timing)."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(interval)
