"""Key patterns of the metadata table (documented in docs/data-model.md)."""

from __future__ import annotations

CATALOG = "CATALOG"  # PK of one item per repository, SK = repository name
BLOB = "BLOB"  # SK of a blob's global record
UPLOAD = "UPLOAD"  # SK of an upload session
TAG_PREFIX = "TAG#"
MANIFEST_PREFIX = "MANIFEST#"
BLOB_PREFIX = "BLOB#"
REFERRER_PREFIX = "REFERRER#"


def repository(name: str) -> str:
    return f"REPO#{name}"


def blob(digest: str) -> str:
    return f"{BLOB_PREFIX}{digest}"


def manifest(digest: str) -> str:
    return f"{MANIFEST_PREFIX}{digest}"


def tag(name: str) -> str:
    return f"{TAG_PREFIX}{name}"


def referrer(subject: str, digest: str = "") -> str:
    return f"{REFERRER_PREFIX}{subject}#{digest}"


def upload(upload_id: str) -> str:
    return f"UPLOAD#{upload_id}"
