"""The launcher's child processes (API workers, its redis-server) never outlive it: each asks the kernel
to signal it when the launcher dies (Linux's PR_SET_PDEATHSIG), however the launcher ends, kill -9
included. The request is tied to the thread that started the child: start children from a thread that
lives as long as the launcher (its main thread). `StopSignals`: how the launcher and its workers take
SIGINT and SIGTERM."""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import time
from collections.abc import Callable
from typing import Any

_PR_SET_PDEATHSIG = 1


def signal_when_orphaned(parent: int, signal_number: int) -> None:
    """Called in the child: `signal_number` comes when `parent` dies (at once if it already has)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal_number)
    if os.getppid() != parent:
        os.kill(os.getpid(), signal_number)


def die_with_parent(signal_number: int = signal.SIGKILL) -> Callable[[], None]:
    """A `preexec_fn` for subprocess.Popen, for a child that is not ours to change (redis-server)."""
    parent = os.getpid()
    return lambda: signal_when_orphaned(parent, signal_number)


class StopSignals:
    """SIGINT and SIGTERM, noted by a handler that takes no lock. One that called `Event.set()` deadlocked
    when a second signal came while the first handler held the event's lock: an API worker hung forever
    after its launcher's kill -9 (the kernel's SIGTERM on top of another)."""

    def __init__(self) -> None:
        self.received = False
        for number in (signal.SIGINT, signal.SIGTERM):
            signal.signal(number, self._note)

    def _note(self, *_: Any) -> None:
        self.received = True

    def wait(self, seconds: float) -> bool:
        """Sleep `seconds` (a signal does not cut it short); True once a stop was asked for."""
        time.sleep(seconds)
        return self.received
