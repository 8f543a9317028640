"""Powertools Logger, Tracer and Metrics. Locally the launcher sets POWERTOOLS_TRACE_DISABLED and
POWERTOOLS_METRICS_DISABLED, so tracing and metrics do nothing; on Lambda they report to X-Ray and
CloudWatch (EMF)."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = "harbor-serverless"

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace="HarborServerless", service=SERVICE)
