"""The local stack killed with SIGKILL at random moments under load: what it acknowledged before the loss
window survives every restart, nothing it lists is half-written, and no child outlives it
(tests/support/crashes.py; `make bench-crash` runs the same for longer)."""

from __future__ import annotations

from pathlib import Path

from tests.support.crashes import CrashRounds, summary

KILLS = 20


def test_kill_9_during_pushes_deletes_and_gc_loses_nothing_acknowledged_before_the_window(tmp_path: Path) -> None:
    tally = CrashRounds(tmp_path, snapshot_seconds=2.0).run(KILLS)
    print(summary(tally))
    assert tally.kills == KILLS
    assert not tally.lost, summary(tally)
    assert tally.pushes_checked >= KILLS and tally.repushes >= KILLS - 1, summary(tally)
    assert tally.deletes_checked > 0, summary(tally)
