"""boto3 clients, created lazily once per process; endpoints come from boto3's own configuration
(AWS_ENDPOINT_URL for the local emulator or LocalStack), never from code."""

from __future__ import annotations

import threading
from functools import cache
from typing import Any

import boto3
from botocore.config import Config

from chalicelib.config import settings

_RETRIES = Config(retries={"max_attempts": 5, "mode": "standard"})
# One session per process: its loader parses each service's model once (tens of milliseconds for S3's),
# where a session per client parsed it again for every client. Clients are thread-safe, sessions are
# not: clients are created under a lock.
_session = boto3.session.Session()
_creating = threading.Lock()


@cache
def client(service: str) -> Any:
    with _creating:
        return _session.client(service, region_name=settings().region, config=_RETRIES)


@cache
def presign_client() -> Any:
    """S3 client used only to sign download URLs: they must name an endpoint the *client* can reach."""
    cfg = Config(signature_version="s3v4", s3={"addressing_style": "path"})
    with _creating:
        return _session.client("s3", region_name=settings().region, endpoint_url=settings().s3_presign_endpoint,
                               config=cfg)


def reset() -> None:
    """Forget cached clients and settings (tests change the environment between runs)."""
    client.cache_clear()
    presign_client.cache_clear()
    settings.cache_clear()
