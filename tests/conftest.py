"""Shared fixtures. moto is imported before any boto3 client exists (see DESIGN.md's traps)."""

from __future__ import annotations

import os

import moto  # noqa: F401  (must precede boto3 client creation)

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
