"""Error envelopes: the OCI distribution error JSON on /v2/ and Harbor's on /api/v2.0/.

Both are {"errors":[{"code","message"}]} (OCI adds "detail"). Services raise ServiceError with a
code of either table; app.py turns it into a response. Anything else becomes a 500 whose body
never carries internals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# code -> (HTTP status, default message): the OCI distribution spec's codes, then Harbor's
# (src/lib/errors/const.go; semantics-2.6.md section 0).
CODES: dict[str, tuple[int, str]] = {
    "BLOB_UNKNOWN": (404, "blob unknown to registry"),
    "BLOB_UPLOAD_INVALID": (400, "blob upload invalid"),
    "BLOB_UPLOAD_UNKNOWN": (404, "blob upload unknown to registry"),
    "DIGEST_INVALID": (400, "provided digest did not match uploaded content"),
    "MANIFEST_BLOB_UNKNOWN": (400, "manifest references a manifest or blob unknown to registry"),
    "MANIFEST_INVALID": (400, "manifest invalid"),
    "MANIFEST_UNKNOWN": (404, "manifest unknown"),
    "TAG_INVALID": (400, "manifest tag did not match URI"),
    "NAME_INVALID": (400, "invalid repository name"),
    "NAME_UNKNOWN": (404, "repository name not known to registry"),
    "SIZE_INVALID": (400, "provided length did not match content length"),
    "UNAUTHORIZED": (401, "authentication required"),
    "DENIED": (403, "requested access to the resource is denied"),
    "UNSUPPORTED": (405, "the operation is unsupported"),
    "TOOMANYREQUESTS": (429, "too many requests"),
    "RANGE_INVALID": (416, "invalid content range"),
    "PAGINATION_NUMBER_INVALID": (400, "invalid number of results requested"),
    "BAD_REQUEST": (400, "bad request"),
    "FORBIDDEN": (403, "forbidden"),
    "NOT_FOUND": (404, "resource not found"),
    "METHOD_NOT_ALLOWED": (405, "method not allowed"),
    "CONFLICT": (409, "conflict"),
    "PRECONDITION": (412, "precondition failed"),
    "VIOLATE_FOREIGN_KEY_CONSTRAINT": (412, "the resource is referenced by others"),
    "PROJECTPOLICYVIOLATION": (412, "the project's policy refuses this"),
    "UNPROCESSABLE_ENTITY": (422, "unprocessable entity"),
}


@dataclass
class ServiceError(Exception):
    code: str
    message: str = ""
    detail: Any = None
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        default_status, default_message = CODES.get(self.code, (500, "internal error"))
        self.status = self.status or default_status
        self.message = self.message or default_message
        super().__init__(self.message)

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.detail is not None:
            error["detail"] = self.detail
        return {"errors": [error]}


def internal_error_body() -> dict[str, Any]:
    return {"errors": [{"code": "UNKNOWN", "message": "internal server error"}]}


def harbor_error(code: str, cause: str | None = None) -> ServiceError:
    """Harbor's message convention: the code's default message, then ": <cause>" when there is one."""
    default = CODES[code][1]
    return ServiceError(code, f"{default}: {cause}" if cause else default)
