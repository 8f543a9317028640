"""The blob bucket (S3): content-addressed blobs, multipart upload sessions, presigned reads."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from botocore.exceptions import ClientError

from chalicelib import clock
from chalicelib.aws import client, presign_client
from chalicelib.config import settings


def blob_key(digest: str) -> str:
    algorithm, hex_digest = digest.split(":", 1)
    return f"blobs/{algorithm}/{hex_digest[:2]}/{hex_digest}"


def manifest_key(digest: str) -> str:
    algorithm, hex_digest = digest.split(":", 1)
    return f"manifests/{algorithm}/{hex_digest[:2]}/{hex_digest}"


def upload_key(upload_id: str, suffix: str) -> str:
    return f"uploads/{upload_id}/{suffix}"


def _bucket() -> str:
    return settings().bucket_name


def put(key: str, data: bytes, *, content_type: str | None = None, meta: dict[str, str] | None = None) -> None:
    args: dict[str, Any] = {"Bucket": _bucket(), "Key": key, "Body": data}
    if content_type:
        args["ContentType"] = content_type
    if meta:
        args["Metadata"] = meta
    client("s3").put_object(**args)


def head(key: str) -> dict[str, Any]:
    """Size and user metadata of an object."""
    answer = client("s3").head_object(Bucket=_bucket(), Key=key)
    return {"size": answer["ContentLength"], "meta": answer.get("Metadata", {})}


def list_prefix(prefix: str) -> list[tuple[str, int]]:
    """(key, size) of every object under the prefix, in key order."""
    found: list[tuple[str, int]] = []
    for page in client("s3").get_paginator("list_objects_v2").paginate(Bucket=_bucket(), Prefix=prefix):
        found += [(o["Key"], o["Size"]) for o in page.get("Contents", [])]
    return found


@dataclass(frozen=True)
class Listed:
    key: str
    size: int
    modified: str  # ISO 8601 UTC, as clock.iso() writes times


def list_page(prefix: str, after: str = "", limit: int = 1000) -> tuple[list[Listed], str | None]:
    """Up to `limit` (at most 1,000) objects under the prefix whose keys come after `after`, in key order,
    and the key to continue after when more remain: one ListObjectsV2 call."""
    args = {"Bucket": _bucket(), "Prefix": prefix, "MaxKeys": limit} | ({"StartAfter": after} if after else {})
    page = client("s3").list_objects_v2(**args)
    listed = [Listed(o["Key"], o["Size"], clock.iso(o["LastModified"].astimezone(UTC)))
              for o in page.get("Contents", [])]
    return listed, (listed[-1].key if page.get("IsTruncated") and listed else None)


def subprefixes(prefix: str) -> Iterator[str]:
    """The "directories" right under the prefix (ListObjectsV2 with a delimiter), in key order."""
    for page in client("s3").get_paginator("list_objects_v2").paginate(Bucket=_bucket(), Prefix=prefix,
                                                                        Delimiter="/"):
        yield from (p["Prefix"] for p in page.get("CommonPrefixes", []))


@dataclass(frozen=True)
class MultipartUpload:
    key: str
    upload_id: str
    initiated: str  # ISO 8601 UTC


def multipart_uploads(prefix: str) -> Iterator[MultipartUpload]:
    """The multipart uploads begun and neither completed nor aborted under the prefix."""
    for page in client("s3").get_paginator("list_multipart_uploads").paginate(Bucket=_bucket(), Prefix=prefix):
        yield from (MultipartUpload(u["Key"], u["UploadId"], clock.iso(u["Initiated"].astimezone(UTC)))
                    for u in page.get("Uploads", []))


def delete_many(keys: list[str]) -> dict[str, str]:
    """Delete the objects, 1,000 per DeleteObjects call; the keys S3 could not delete, with its reason."""
    failed: dict[str, str] = {}
    for start in range(0, len(keys), 1000):
        answer = client("s3").delete_objects(
            Bucket=_bucket(), Delete={"Objects": [{"Key": k} for k in keys[start:start + 1000]], "Quiet": True})
        failed |= {e["Key"]: f"{e.get('Code', '')}: {e.get('Message', '')}" for e in answer.get("Errors", [])}
    return failed


def delete_prefix(prefix: str) -> None:
    delete_many([key for key, _ in list_prefix(prefix)])


def get(key: str) -> bytes:
    return client("s3").get_object(Bucket=_bucket(), Key=key)["Body"].read()


def stream(key: str, chunk_bytes: int) -> Iterator[bytes]:
    """An object's bytes, `chunk_bytes` at a time, never all in memory."""
    body = client("s3").get_object(Bucket=_bucket(), Key=key)["Body"]
    try:
        yield from body.iter_chunks(chunk_bytes)
    finally:
        body.close()


def download(key: str, path: str) -> None:
    """Stream an object to a file (boto3's managed transfer: ranged parts, memory stays flat)."""
    client("s3").download_file(_bucket(), key, path)


def upload(path: str, key: str) -> None:
    client("s3").upload_file(path, _bucket(), key)


def check_bucket() -> None:
    """Raise unless the bucket answers (HeadBucket)."""
    client("s3").head_bucket(Bucket=_bucket())


def exists(key: str) -> bool:
    return etag(key) is not None


def etag(key: str) -> str | None:
    try:
        return client("s3").head_object(Bucket=_bucket(), Key=key)["ETag"]
    except ClientError as error:
        if error.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
            return None
        raise


def get_text(key: str) -> str | None:
    try:
        return get(key).decode()
    except ClientError as error:
        if error.response["Error"]["Code"] in ("404", "NoSuchKey"):
            return None
        raise


def delete(key: str) -> None:
    client("s3").delete_object(Bucket=_bucket(), Key=key)


def copy(source: str, destination: str) -> None:
    """Server-side copy; boto3's managed copy switches to multipart copy above 8 MiB."""
    client("s3").copy({"Bucket": _bucket(), "Key": source}, _bucket(), destination)


def presigned_get(key: str, ttl_seconds: int) -> str:
    return presign_client().generate_presigned_url(
        "get_object", Params={"Bucket": _bucket(), "Key": key}, ExpiresIn=ttl_seconds)


def start_multipart(key: str, content_type: str | None = None) -> str:
    extra = {"ContentType": content_type} if content_type else {}
    return client("s3").create_multipart_upload(Bucket=_bucket(), Key=key, **extra)["UploadId"]


def upload_part(key: str, multipart_id: str, number: int, data: bytes) -> str:
    response = client("s3").upload_part(Bucket=_bucket(), Key=key, UploadId=multipart_id,
                                        PartNumber=number, Body=data)
    return response["ETag"]


def copy_part(key: str, multipart_id: str, number: int, source: str) -> str:
    """A whole existing object as one part of a multipart upload, copied inside S3."""
    response = client("s3").upload_part_copy(Bucket=_bucket(), Key=key, UploadId=multipart_id, PartNumber=number,
                                             CopySource={"Bucket": _bucket(), "Key": source})
    return response["CopyPartResult"]["ETag"]


def complete_multipart(key: str, multipart_id: str, etags: list[str]) -> None:
    parts: list[dict[str, Any]] = [{"PartNumber": n, "ETag": etag} for n, etag in enumerate(etags, 1)]
    client("s3").complete_multipart_upload(Bucket=_bucket(), Key=key, UploadId=multipart_id,
                                           MultipartUpload={"Parts": parts})


def abort_multipart(key: str, multipart_id: str) -> None:
    try:
        client("s3").abort_multipart_upload(Bucket=_bucket(), Key=key, UploadId=multipart_id)
    except ClientError as error:
        if error.response["Error"]["Code"] != "NoSuchUpload":
            raise
