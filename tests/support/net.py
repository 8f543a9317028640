"""Ports and readiness for servers the tests and benchmarks start."""

from __future__ import annotations

import time

import requests

from infra.ports import free_port

__all__ = ["free_port", "wait_for_http"]


def wait_for_http(url: str, seconds: float = 300) -> None:
    """Return once anything answers HTTP at `url`."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            requests.get(url, timeout=1)
            return
        except requests.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
