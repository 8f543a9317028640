"""Domain errors as HTTP answers: the one table from chalicelib/errors.py's codes and classes to
statuses, headers and the error envelope ({"errors":[{"code","message"}]}, OCI adds "detail").
Anything else becomes a 500 whose body never carries internals."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.config import settings
from chalicelib.errors import DomainError, TooLarge, Unauthorized, UploadOutOfOrder
from chalicelib.handlers.http import JSON, HttpRequest, HttpResponse

STATUS: dict[str, int] = {
    "BLOB_UNKNOWN": 404, "BLOB_UPLOAD_INVALID": 400, "BLOB_UPLOAD_UNKNOWN": 404, "DIGEST_INVALID": 400,
    "MANIFEST_BLOB_UNKNOWN": 400, "MANIFEST_INVALID": 400, "MANIFEST_UNKNOWN": 404, "TAG_INVALID": 400,
    "NAME_INVALID": 400, "NAME_UNKNOWN": 404, "SIZE_INVALID": 400, "UNAUTHORIZED": 401, "DENIED": 403,
    "UNSUPPORTED": 405, "TOOMANYREQUESTS": 429, "RANGE_INVALID": 416, "PAGINATION_NUMBER_INVALID": 400,
    "BAD_REQUEST": 400, "FORBIDDEN": 403, "NOT_FOUND": 404, "METHOD_NOT_ALLOWED": 405, "CONFLICT": 409,
    "PRECONDITION": 412, "VIOLATE_FOREIGN_KEY_CONSTRAINT": 412, "PROJECTPOLICYVIOLATION": 412,
    "UNPROCESSABLE_ENTITY": 422,
}


def status_of(error: DomainError) -> int:
    if isinstance(error, TooLarge):
        return 413
    return STATUS.get(error.code, 500)


def challenge(request: HttpRequest, error: Unauthorized) -> str:
    """Harbor's challenge: Basic after rejected credentials, else Bearer with the scope needed."""
    if error.basic:
        return 'Basic realm="harbor"'
    value = f'Bearer realm="{request.base_url}/service/token",service="{settings().token_service}"'
    return value + (f',scope="{error.scope}"' if error.scope else "")


def upload_progress(name: str, upload_id: str, offset: int) -> dict[str, str]:
    """Where an upload stands, as every upload answer tells it."""
    return {"Location": f"/v2/{name}/blobs/uploads/{upload_id}", "Range": f"0-{max(offset - 1, 0)}",
            "Docker-Upload-UUID": upload_id, "OCI-Chunk-Min-Length": str(settings().chunk_min_length)}


def headers_of(request: HttpRequest, error: DomainError) -> dict[str, str]:
    if isinstance(error, Unauthorized):
        return {"Www-Authenticate": challenge(request, error)}
    if isinstance(error, UploadOutOfOrder):
        return upload_progress(error.name, error.upload_id, error.offset)
    return {}


def body_of(error: DomainError) -> dict[str, Any]:
    entry: dict[str, Any] = {"code": error.code, "message": error.message}
    if error.detail is not None:
        entry["detail"] = error.detail
    return {"errors": [entry]}


def answer(request: HttpRequest, error: DomainError) -> HttpResponse:
    return HttpResponse(status_of(error), {"Content-Type": JSON, **headers_of(request, error)},
                        json.dumps(body_of(error)))


def internal_error() -> HttpResponse:
    return HttpResponse(500, {"Content-Type": JSON},
                        json.dumps({"errors": [{"code": "UNKNOWN", "message": "internal server error"}]}))
