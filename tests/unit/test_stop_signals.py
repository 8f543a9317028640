"""How the launcher and its API workers take SIGINT and SIGTERM (infra/children.py): a burst of signals
stops a waiting process, never hangs it (a handler that set a threading.Event deadlocked when a signal
came while another handler held the event's lock: a worker outlived its launcher)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WAITING = """
from infra.children import StopSignals
signals = StopSignals()
print("ready", flush=True)
while not signals.wait(0.05):
    pass
"""


def test_a_burst_of_stop_signals_stops_a_waiting_process() -> None:
    child = subprocess.Popen([sys.executable, "-c", WAITING], cwd=ROOT, stdout=subprocess.PIPE)
    assert child.stdout is not None and child.stdout.readline() == b"ready\n"
    for _ in range(20_000):
        if child.poll() is not None:
            break
        try:
            os.kill(child.pid, signal.SIGTERM)
        except ProcessLookupError:
            break
    child.wait(timeout=600)  # it ended (late signals may find it exiting, with the default action)
