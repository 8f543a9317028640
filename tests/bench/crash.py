"""`make bench-crash`: the soak of the kill -9 test (tests/support/crashes.py): KILLS rounds (default 100)
of concurrent skopeo pushes, deletes and a garbage collection, each ended by SIGKILL at a random moment
and checked by the next start. Prints kills, pushes checked, bytes verified, the longest save (the loss
window is SNAPSHOT_SECONDS plus that, at most twice) and anything lost (expected: zero)."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from tests.support.crashes import CrashRounds, summary


def main() -> None:
    kills = int(os.environ.get("KILLS", "100"))
    snapshot_seconds = float(os.environ.get("SNAPSHOT_SECONDS", "2"))
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as work:
        tally = CrashRounds(Path(work), snapshot_seconds).run(kills)
    print(f"kill -9 soak, SNAPSHOT_SECONDS={snapshot_seconds:g}, {time.monotonic() - started:.0f} s:")
    print(summary(tally))
    if tally.lost:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
