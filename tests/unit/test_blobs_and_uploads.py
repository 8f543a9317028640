"""Blob HEAD/GET/DELETE and every upload flow: monolithic, chunked, streamed, mount, cancel."""

from __future__ import annotations

import hashlib
import os
from urllib.parse import urlsplit

import boto3
import pytest

from chalicelib.auth import users
from chalicelib.config import settings
from chalicelib.projects import create_project
from tests.support.client import Client
from tests.support.images import sha256
from tests.support.oci import upload_blob, upload_chunked

MiB = 1024 * 1024


def _s3_keys(prefix: str) -> list[str]:
    listing = boto3.client("s3").list_objects_v2(Bucket=settings().bucket_name, Prefix=prefix)
    return [o["Key"] for o in listing.get("Contents", [])]


def _s3_blob(digest: str) -> bytes:
    algorithm, hex_digest = digest.split(":")
    key = f"blobs/{algorithm}/{hex_digest[:2]}/{hex_digest}"
    return boto3.client("s3").get_object(Bucket=settings().bucket_name, Key=key)["Body"].read()


def _nothing_left_of_uploads() -> None:
    assert _s3_keys("uploads/") == []
    multipart = boto3.client("s3").list_multipart_uploads(Bucket=settings().bucket_name)
    assert multipart.get("Uploads", []) == []


def test_monolithic_upload_head_and_redirected_get(client: Client) -> None:
    data = os.urandom(3000)
    reply = upload_blob(client, "library/app", data)
    assert reply.status == 201
    assert reply.header("Docker-Content-Digest") == sha256(data)
    assert reply.header("Location") == f"/v2/library/app/blobs/{sha256(data)}"
    head = client.request("HEAD", f"/v2/library/app/blobs/{sha256(data)}")
    assert head.status == 200 and head.body == b""
    assert head.header("Content-Length") == "3000"
    assert head.header("Docker-Content-Digest") == sha256(data)
    get = client.request("GET", f"/v2/library/app/blobs/{sha256(data)}")
    assert get.status == 307
    location = urlsplit(get.header("Location"))
    assert location.path.endswith(f"/blobs/sha256/{sha256(data)[7:9]}/{sha256(data)[7:]}")
    assert "X-Amz-Signature=" in location.query and "X-Amz-Expires=300" in location.query
    assert _s3_blob(sha256(data)) == data


def test_blob_is_stored_once_and_linked_per_repository(client: Client) -> None:
    data = os.urandom(100)
    upload_blob(client, "library/a", data)
    assert client.request("HEAD", f"/v2/library/b/blobs/{sha256(data)}").status == 404
    upload_blob(client, "library/b", data)
    assert client.request("HEAD", f"/v2/library/b/blobs/{sha256(data)}").status == 200
    assert len(_s3_keys("blobs/")) == 1


def test_monolithic_upload_with_wrong_digest_stores_nothing(client: Client) -> None:
    data = os.urandom(100)
    wrong = sha256(b"something else")
    reply = client.request("POST", f"/v2/library/app/blobs/uploads/?digest={wrong}", body=data)
    assert reply.status == 400 and reply.error_codes == ["DIGEST_INVALID"]
    assert client.request("HEAD", f"/v2/library/app/blobs/{wrong}").status == 404
    assert _s3_keys("blobs/") == []


@pytest.mark.parametrize("chunk", [1000, 4 * MiB])
def test_chunked_upload_of_any_chunk_size(client: Client, chunk: int) -> None:
    data = os.urandom(11 * MiB + 123 if chunk > 1000 else 5500)
    reply = upload_chunked(client, "library/app", data, chunk)
    assert reply.status == 201, reply.body
    assert reply.header("Docker-Content-Digest") == sha256(data)
    assert client.request("HEAD", f"/v2/library/app/blobs/{sha256(data)}").header("Content-Length") == str(len(data))
    assert _s3_blob(sha256(data)) == data
    _nothing_left_of_uploads()


def test_upload_start_advertises_location_and_chunk_min_length(client: Client) -> None:
    reply = client.request("POST", "/v2/library/app/blobs/uploads/")
    assert reply.status == 202
    assert reply.header("Location").startswith("/v2/library/app/blobs/uploads/")
    assert reply.header("Range") == "0-0"
    assert int(reply.header("OCI-Chunk-Min-Length")) > 0
    assert reply.header("Docker-Upload-UUID") in reply.header("Location")


def test_streamed_patch_then_put_with_last_chunk(client: Client) -> None:
    data = os.urandom(9000)
    location = client.request("POST", "/v2/library/app/blobs/uploads/").header("Location")
    patched = client.request("PATCH", location, body=data[:4000])  # no Content-Range: streamed
    assert patched.status == 202 and patched.header("Range") == "0-3999"
    status = client.request("GET", location)
    assert status.status == 204 and status.header("Range") == "0-3999"
    done = client.request("PUT", f"{location}?digest={sha256(data)}", body=data[4000:],
                          headers={"Content-Range": "4000-8999"})
    assert done.status == 201
    assert _s3_blob(sha256(data)) == data


def test_out_of_order_chunk_is_416_and_changes_nothing(client: Client) -> None:
    data = os.urandom(3000)
    location = client.request("POST", "/v2/library/app/blobs/uploads/").header("Location")
    client.request("PATCH", location, body=data[:1000], headers={"Content-Range": "0-999"})
    skipped = client.request("PATCH", location, body=data[2000:], headers={"Content-Range": "2000-2999"})
    assert skipped.status == 416
    assert skipped.header("Range") == "0-999"
    assert client.request("GET", location).header("Range") == "0-999"
    client.request("PATCH", location, body=data[1000:], headers={"Content-Range": "1000-2999"})
    assert client.request("PUT", f"{location}?digest={sha256(data)}").status == 201


def test_malformed_content_range_is_rejected(client: Client) -> None:
    location = client.request("POST", "/v2/library/app/blobs/uploads/").header("Location")
    reply = client.request("PATCH", location, body=b"abc", headers={"Content-Range": "zero-two"})
    assert reply.status == 400 and reply.error_codes == ["BLOB_UPLOAD_INVALID"]


def test_finalise_with_wrong_digest_stores_nothing(client: Client) -> None:
    data = os.urandom(6 * MiB)
    location = client.request("POST", "/v2/library/app/blobs/uploads/").header("Location")
    for offset in range(0, len(data), 4 * MiB):
        client.request("PATCH", location, body=data[offset:offset + 4 * MiB])
    wrong = sha256(b"not it")
    reply = client.request("PUT", f"{location}?digest={wrong}")
    assert reply.status == 400 and reply.error_codes == ["DIGEST_INVALID"]
    for digest in (wrong, sha256(data)):
        assert client.request("HEAD", f"/v2/library/app/blobs/{digest}").status == 404
    assert _s3_keys("blobs/") == []
    _nothing_left_of_uploads()
    assert client.request("GET", location).error_codes == ["BLOB_UPLOAD_UNKNOWN"]


def test_unknown_or_foreign_upload_is_404(client: Client) -> None:
    unknown = client.request("PATCH", "/v2/library/app/blobs/uploads/0123456789abcdef0123456789abcdef", body=b"x")
    assert unknown.status == 404 and unknown.error_codes == ["BLOB_UPLOAD_UNKNOWN"]
    garbage = client.request("PATCH", "/v2/library/app/blobs/uploads/..%2F..%2Fetc", body=b"x")
    assert garbage.status in (400, 404)
    location = client.request("POST", "/v2/library/app/blobs/uploads/").header("Location")
    foreign = client.request("PATCH", location.replace("library/app", "library/other"), body=b"x")
    assert foreign.error_codes == ["BLOB_UPLOAD_UNKNOWN"]


def test_cancel_upload(client: Client) -> None:
    location = client.request("POST", "/v2/library/app/blobs/uploads/").header("Location")
    client.request("PATCH", location, body=os.urandom(4 * MiB))
    client.request("PATCH", location, body=os.urandom(4 * MiB))  # now a multipart part exists
    assert client.request("DELETE", location).status == 204
    assert client.request("GET", location).status == 404
    _nothing_left_of_uploads()


def test_sha512_blobs(client: Client) -> None:
    data = os.urandom(5000)
    digest = "sha512:" + hashlib.sha512(data).hexdigest()
    assert client.request("POST", f"/v2/library/app/blobs/uploads/?digest={digest}", body=data).status == 201
    assert client.request("HEAD", f"/v2/library/app/blobs/{digest}").header("Content-Length") == "5000"
    location = client.request("POST", "/v2/library/app/blobs/uploads/").header("Location")
    other = os.urandom(7000)
    client.request("PATCH", location, body=other)
    other_digest = "sha512:" + hashlib.sha512(other).hexdigest()
    assert client.request("PUT", f"{location}?digest={other_digest}").status == 201
    assert _s3_blob(other_digest) == other


def test_unsupported_or_malformed_digests(client: Client) -> None:
    for digest in ("md5:d41d8cd98f00b204e9800998ecf8427e", "sha256:XYZ", "sha256:" + "a" * 63):
        reply = client.request("HEAD", f"/v2/library/app/blobs/{digest}")
        assert reply.status == 400, digest
        reply = client.request("POST", f"/v2/library/app/blobs/uploads/?digest={digest}", body=b"x")
        assert reply.error_codes == ["DIGEST_INVALID"], digest


def test_cross_repository_mount(client: Client) -> None:
    data = os.urandom(2000)
    upload_blob(client, "library/source", data)
    mounted = client.request("POST", f"/v2/library/target/blobs/uploads/?mount={sha256(data)}&from=library/source")
    assert mounted.status == 201
    assert mounted.header("Location") == f"/v2/library/target/blobs/{sha256(data)}"
    assert client.request("HEAD", f"/v2/library/target/blobs/{sha256(data)}").status == 200
    missing = sha256(b"never uploaded")
    fallback = client.request("POST", f"/v2/library/target/blobs/uploads/?mount={missing}&from=library/source")
    assert fallback.status == 202 and "/blobs/uploads/" in fallback.header("Location")


def test_mount_needs_pull_on_the_source(client: Client) -> None:
    alice = users.create_user("alice", "Alice12345")
    create_project("alice", owner_id=alice.user_id, owner_name="alice", public=False)
    users.create_user("bob", "Bob123456")
    bob_project = users.get_user("bob")
    create_project("bob", owner_id=bob_project.user_id, owner_name="bob", public=False)
    secret = os.urandom(500)
    assert upload_blob(client, "alice/private", secret, auth=("alice", "Alice12345")).status == 201
    reply = client.request("POST", f"/v2/bob/app/blobs/uploads/?mount={sha256(secret)}&from=alice/private",
                           auth=("bob", "Bob123456"))
    assert reply.status == 202  # a plain upload, not the other user's blob
    assert client.request("HEAD", f"/v2/bob/app/blobs/{sha256(secret)}", auth=("bob", "Bob123456")).status == 404


def test_blob_delete_unlinks(client: Client) -> None:
    data = os.urandom(100)
    upload_blob(client, "library/app", data)
    assert client.request("DELETE", f"/v2/library/app/blobs/{sha256(data)}").status == 202
    assert client.request("HEAD", f"/v2/library/app/blobs/{sha256(data)}").status == 404
    again = client.request("DELETE", f"/v2/library/app/blobs/{sha256(data)}")
    assert again.status == 404 and again.error_codes == ["BLOB_UNKNOWN"]


def test_unknown_blob(client: Client) -> None:
    reply = client.request("GET", f"/v2/library/app/blobs/{sha256(b'nope')}")
    assert reply.status == 404 and reply.error_codes == ["BLOB_UNKNOWN"]


@pytest.mark.parametrize("upload", ["monolithic", "chunked"])
def test_a_blob_whose_bytes_were_lost_is_stored_again_by_the_next_upload(client: Client, upload: str) -> None:
    """A record is never trusted alone: bytes gone from S3 behind the registry's back (a restore of an
    older bucket) come back with the next upload of them, in any repository."""
    data = os.urandom(6 * MiB + 7)  # a multipart session when chunked
    assert upload_blob(client, "library/first", data).status == 201
    algorithm, hex_digest = sha256(data).split(":")
    key = f"blobs/{algorithm}/{hex_digest[:2]}/{hex_digest}"
    boto3.client("s3").delete_object(Bucket=settings().bucket_name, Key=key)

    again = upload_blob(client, "library/second", data) if upload == "monolithic" else \
        upload_chunked(client, "library/second", data, 2 * MiB)
    assert again.status == 201, again.body
    assert _s3_blob(sha256(data)) == data
    assert client.request("GET", f"/v2/library/second/blobs/{sha256(data)}").status == 307
    _nothing_left_of_uploads()
