"""Shared fixtures. moto is imported before any boto3 client exists (see DESIGN.md's traps)."""

from __future__ import annotations

import os
from pathlib import Path

import moto  # noqa: F401  (must precede boto3 client creation)
import pytest

from tests.support import permissions

os.environ.update({
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "HARBOR_ADMIN_PASSWORD": "Harbor12345",
    # An export's file waits this long for its download: longer than any test, so no waiting task
    # wakes after its test's emulator is gone (tests of the expiry set their own).
    "EXPORT_RETENTION_SECONDS": "3600",
})
os.environ.pop("AWS_ENDPOINT_URL", None)


# Every AWS call a template function makes, checked against its role (tests/support/permissions.py).
permissions.install()
_deselected: list[pytest.Item] = []


def pytest_deselected(items: list[pytest.Item]) -> None:
    _deselected.extend(items)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if session.config.option.collectonly:  # nothing ran: no call to check
        return
    unit = Path(__file__).parent / "unit"
    ran_all_of_unit = not _deselected and exitstatus == 0 and any(
        "::" not in arg and unit.resolve().is_relative_to(Path(arg).resolve()) for arg in session.config.args)
    problems = permissions.report(whole_suite=ran_all_of_unit)
    if problems:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        reporter.write_line("IAM permissions and the AWS calls made do not match (infra/template.yaml):", red=True)
        for problem in problems:
            reporter.write_line(f"  {problem}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
