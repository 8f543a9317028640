"""Requests sent over and over from a few threads while a test injects a fault, every answer kept."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from tests.support.waiting import wait_until


class Load:
    def __init__(self) -> None:
        self.statuses: list[int] = []

    def wait_for_more(self, count: int) -> None:
        """Return once `count` more requests were answered (or failed) than when called."""
        seen = len(self.statuses)
        wait_until(lambda: len(self.statuses) >= seen + count)


@contextmanager
def load(request: Callable[[], int], threads: int) -> Iterator[Load]:
    """`request()` (returning an HTTP status) in `threads` threads, until the block ends."""
    running, stop = Load(), threading.Event()

    def repeat() -> None:
        while not stop.is_set():
            running.statuses.append(request())

    workers = [threading.Thread(target=repeat) for _ in range(threads)]
    for worker in workers:
        worker.start()
    try:
        yield running
    finally:
        stop.set()
        for worker in workers:
            worker.join()
