"""Upload purging (Harbor's upload_purging): the scheduled function removes abandoned upload sessions
(pending chunks, the S3 multipart upload, the session record) and never one in use."""

from __future__ import annotations

import os

import boto3
import pytest

from chalicelib.config import settings
from chalicelib.store import uploads
from infra.functions import LocalFunctions
from tests.support.client import Client
from tests.unit.conftest import Configure

MiB = 1024 * 1024


@pytest.fixture
def purge_age(configure: Configure) -> Configure:
    """UPLOAD_PURGE_AGE_HOURS=0: every session not written since the purge began is abandoned."""
    configure(UPLOAD_PURGE_AGE_HOURS="0")
    return configure


def _abandon(client: Client) -> str:
    """A push that stopped after two chunks: one in an S3 multipart part, the next pending. Its location."""
    location = client.request("POST", "/v2/library/app/blobs/uploads/").header("Location")
    first = client.request("PATCH", location, body=os.urandom(5 * MiB), headers={"Content-Range": f"0-{5 * MiB - 1}"})
    second = client.request("PATCH", first.header("Location"), body=os.urandom(1000),
                            headers={"Content-Range": f"{5 * MiB}-{5 * MiB + 999}"})
    assert second.status == 202
    return second.header("Location")


def _left_in_s3() -> tuple[list[str], list[str]]:
    s3, bucket = boto3.client("s3"), settings().bucket_name
    objects = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="uploads/").get("Contents", [])]
    multipart = [u["Key"] for u in s3.list_multipart_uploads(Bucket=bucket, Prefix="uploads/").get("Uploads", [])]
    return objects, multipart


def test_an_abandoned_upload_is_purged_whole(client: Client, local_functions: LocalFunctions,
                                             purge_age: Configure) -> None:
    location = _abandon(client)
    assert all(_left_in_s3())

    assert local_functions.invoke("UploadPurgeFunction", {}) == {"purged": 1, "kept": 0}

    assert _left_in_s3() == ([], [])
    reply = client.request("GET", location)
    assert reply.status == 404 and reply.error_codes == ["BLOB_UPLOAD_UNKNOWN"]


def test_a_dry_run_removes_nothing(client: Client, local_functions: LocalFunctions,
                                   purge_age: Configure) -> None:
    purge_age(UPLOAD_PURGE_DRY_RUN="true")
    location = _abandon(client)
    assert local_functions.invoke("UploadPurgeFunction", {}) == {"purged": 1, "kept": 0}
    assert all(_left_in_s3())
    assert client.request("GET", location).status == 204


def test_a_recent_upload_is_kept_and_completes(client: Client, local_functions: LocalFunctions) -> None:
    location = _abandon(client)  # written just now: within the default 168 h
    assert local_functions.invoke("UploadPurgeFunction", {}) == {"purged": 0, "kept": 1}
    assert client.request("PUT", f"{location}?digest=sha256:{'0' * 64}").status == 400  # the session is still there


def test_a_session_written_after_it_was_read_is_not_purged(client: Client) -> None:
    location = client.request("POST", "/v2/library/app/blobs/uploads/").header("Location")
    upload_id = location.rstrip("/").rsplit("/", 1)[1].split("?")[0]
    seen = uploads.activity(upload_id)
    assert seen is not None
    assert client.request("PATCH", location, body=b"more", headers={"Content-Range": "0-3"}).status == 202
    with pytest.raises(uploads.ConditionFailed):
        uploads.delete_unless_written(upload_id, seen)
    assert client.request("GET", location).status == 204


def test_a_session_that_never_received_bytes_is_purged(client: Client, local_functions: LocalFunctions,
                                                       purge_age: Configure) -> None:
    location = client.request("POST", "/v2/library/app/blobs/uploads/").header("Location")
    assert _left_in_s3() == ([], [])  # only its record holds it
    assert local_functions.invoke("UploadPurgeFunction", {}) == {"purged": 1, "kept": 0}
    assert client.request("GET", location).status == 404
