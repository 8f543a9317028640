"""The domain's errors: one hierarchy every service and store raises, none of it about HTTP.

An error names its code (the OCI distribution spec's codes and Harbor's, src/lib/errors/const.go), a
message (the code's default unless given) and, for OCI, a detail. Subclasses carry what an answer
needs besides: who to challenge (Unauthorized), how far an upload got (UploadOutOfOrder).
chalicelib/handlers/errors.py is the one table from these to HTTP statuses, headers and envelopes.
"""

from __future__ import annotations

from typing import Any

# code -> default message.
MESSAGES: dict[str, str] = {
    "BLOB_UNKNOWN": "blob unknown to registry",
    "BLOB_UPLOAD_INVALID": "blob upload invalid",
    "BLOB_UPLOAD_UNKNOWN": "blob upload unknown to registry",
    "DIGEST_INVALID": "provided digest did not match uploaded content",
    "MANIFEST_BLOB_UNKNOWN": "manifest references a manifest or blob unknown to registry",
    "MANIFEST_INVALID": "manifest invalid",
    "MANIFEST_UNKNOWN": "manifest unknown",
    "TAG_INVALID": "manifest tag did not match URI",
    "NAME_INVALID": "invalid repository name",
    "NAME_UNKNOWN": "repository name not known to registry",
    "SIZE_INVALID": "provided length did not match content length",
    "UNAUTHORIZED": "authentication required",
    "DENIED": "requested access to the resource is denied",
    "UNSUPPORTED": "the operation is unsupported",
    "TOOMANYREQUESTS": "too many requests",
    "RANGE_INVALID": "invalid content range",
    "PAGINATION_NUMBER_INVALID": "invalid number of results requested",
    "BAD_REQUEST": "bad request",
    "FORBIDDEN": "forbidden",
    "NOT_FOUND": "resource not found",
    "METHOD_NOT_ALLOWED": "method not allowed",
    "CONFLICT": "conflict",
    "PRECONDITION": "precondition failed",
    "VIOLATE_FOREIGN_KEY_CONSTRAINT": "the resource is referenced by others",
    "PROJECTPOLICYVIOLATION": "the project's policy refuses this",
    "UNPROCESSABLE_ENTITY": "unprocessable entity",
}


class DomainError(Exception):
    def __init__(self, code: str, message: str = "", *, detail: Any = None) -> None:
        self.code = code
        self.message = message or MESSAGES.get(code, "internal error")
        self.detail = detail
        super().__init__(self.message)


def harbor_error(code: str, cause: str | None = None) -> DomainError:
    """Harbor's message convention: the code's default message, then ": <cause>" when there is one."""
    default = MESSAGES[code]
    return DomainError(code, f"{default}: {cause}" if cause else default)


class Conflict(DomainError):
    """The name, id or state is taken (Harbor's 409): each store's "exists" error is one."""

    def __init__(self, message: str) -> None:
        super().__init__("CONFLICT", message)


class Invalid(DomainError):
    """Input a service cannot accept, with Harbor's "bad request: <cause>" message."""

    def __init__(self, cause: str) -> None:
        super().__init__("BAD_REQUEST", f"{MESSAGES['BAD_REQUEST']}: {cause}")
        self.cause = cause


class TooLarge(DomainError):
    """A body over what the registry stores (a manifest above its limit)."""


class Unauthorized(DomainError):
    """The caller must authenticate: with Basic credentials (`basic`), or with a bearer token for `scope`."""

    def __init__(self, message: str = "", *, scope: str | None = None, basic: bool = False) -> None:
        super().__init__("UNAUTHORIZED", message)
        self.scope = scope
        self.basic = basic


class UploadOutOfOrder(DomainError):
    """A chunk that does not continue the upload where it stands (`offset`)."""

    def __init__(self, message: str, *, name: str, upload_id: str, offset: int) -> None:
        super().__init__("RANGE_INVALID", message)
        self.name, self.upload_id, self.offset = name, upload_id, offset
