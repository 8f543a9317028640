"""The launcher's child processes (API workers, its redis-server) never outlive it: each asks the kernel
to signal it when the launcher dies (Linux's PR_SET_PDEATHSIG), however the launcher ends, kill -9
included. The request is tied to the thread that started the child: start children from a thread that
lives as long as the launcher (its main thread)."""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Callable

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
