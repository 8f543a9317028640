"""Key patterns of the metadata table (documented in docs/data-model.md)."""

from __future__ import annotations

CATALOG = "CATALOG"  # PK of one item per repository, SK = repository name
PULL_TALLIES = "PULLTALLY"  # PK of the pull recorder's tallies (store/pulls.py), SK = <ms>#<uuid>
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


LABEL_PREFIX = "LABEL#"  # SK prefix of a label attached to an artifact, in the repository's partition


def attached_label(digest: str, label_id: int | None = None) -> str:
    return f"{LABEL_PREFIX}{digest}#" + ("" if label_id is None else str(label_id))


def labeled(label_id: int) -> str:
    """PK of the reverse index: every artifact a label is attached to (SK = <repository>@<digest>)."""
    return f"LABELED#{label_id}"
