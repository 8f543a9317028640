"""The blob bucket (S3): content-addressed blobs, multipart upload sessions, presigned reads."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

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


def delete_prefix(prefix: str) -> None:
    keys = [key for key, _ in list_prefix(prefix)]
    for start in range(0, len(keys), 1000):  # DeleteObjects takes 1,000 keys
        client("s3").delete_objects(Bucket=_bucket(), Delete={"Objects": [{"Key": k} for k in keys[start:start + 1000]],
                                                               "Quiet": True})


def get(key: str) -> bytes:
    return client("s3").get_object(Bucket=_bucket(), Key=key)["Body"].read()


def download(key: str, path: str) -> None:
    """Stream an object to a file (boto3's managed transfer: ranged parts, memory stays flat)."""
    client("s3").download_file(_bucket(), key, path)


def upload(path: str, key: str) -> None:
    client("s3").upload_file(path, _bucket(), key)


def check_bucket() -> None:
    """Raise unless the bucket answers (HeadBucket)."""
    client("s3").head_bucket(Bucket=_bucket())


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
