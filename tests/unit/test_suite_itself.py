"""The test suite as a developer runs parts of it: collecting alone runs nothing, so it checks nothing
(the IAM report of tests/conftest.py judges only a run of the whole unit suite)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_collecting_the_unit_tests_succeeds_and_reports_nothing() -> None:
    collected = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
                                "tests/unit"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert collected.returncode == 0, collected.stdout[-2000:] + collected.stderr[-2000:]
    assert "IAM permissions" not in collected.stdout
