"""Benchmarks (`make bench`). The environment is set here, before any module of the app is imported:
moto before boto3, quiet logs, no tracing or metrics."""

import os

import moto  # noqa: F401  (before any boto3 client)

os.environ.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                   "AWS_DEFAULT_REGION": "us-east-1", "POWERTOOLS_TRACE_DISABLED": "true",
                   "POWERTOOLS_METRICS_DISABLED": "true", "POWERTOOLS_LOG_LEVEL": "ERROR",
                   "HARBOR_ADMIN_PASSWORD": "Harbor12345"})
os.environ.pop("AWS_ENDPOINT_URL", None)
