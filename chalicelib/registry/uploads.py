"""Chunked blob uploads as S3 multipart sessions whose state lives in DynamoDB.

Each PATCH may land on a different Lambda instance, so everything an instance needs is in the
session item: byte offset, multipart id and part ETags, the bytes not yet in a part, and the
resumable hash states. A Lambda request body holds at most ~4.5 MB of raw bytes while S3 parts
must be at least 5 MiB (except the last), so chunks are gathered in a small "pending" object
until they fill a part. Session writes are conditional on a version number: two racing PATCHes
cannot both win. Nothing becomes visible in the repository before the digest is verified.
"""

from __future__ import annotations

import re
import time
import uuid

from chalicelib import clock
from chalicelib.config import settings
from chalicelib.errors import DomainError, UploadOutOfOrder
from chalicelib.registry import blobs
from chalicelib.registry.digests import ALGORITHMS, ResumableHash, algorithm_of
from chalicelib.store import objects
from chalicelib.store import uploads as store
from chalicelib.store.uploads import Session

PART_MIN_BYTES = 5 * 1024 * 1024
_CONTENT_RANGE = re.compile(r"(?:bytes[ =])?(\d+)-(\d+)(?:/\d+|/\*)?")


def _unknown(upload_id: str) -> DomainError:
    return DomainError("BLOB_UPLOAD_UNKNOWN", detail={"uuid": upload_id[:64]})


def start(name: str) -> Session:
    session = Session(uuid.uuid4().hex, name, offset=0, version=0,
                      hash_states={a: ResumableHash(a).state() for a in ALGORITHMS})
    store.create(session, clock.iso(), int(time.time()) + settings().upload_ttl_seconds)
    return session


def load(name: str, upload_id: str) -> Session:
    if not re.fullmatch(r"[0-9a-f]{32}", upload_id):
        raise _unknown(upload_id)
    session = store.get(upload_id)
    if session is None or session.name != name:
        raise _unknown(upload_id)
    return session


def check_range(session: Session, content_range: str | None, length: int) -> None:
    """A chunk must start where the upload stands (416 otherwise, with the current Range)."""
    if not content_range:
        return
    match = _CONTENT_RANGE.fullmatch(content_range.strip())
    if not match:
        raise DomainError("BLOB_UPLOAD_INVALID", "malformed Content-Range",
                            detail={"Content-Range": content_range[:64]})
    begin, end = int(match[1]), int(match[2])
    if begin != session.offset or end < begin or end - begin + 1 != length:
        raise _out_of_order(session, "chunk out of order or of the wrong length")


def _out_of_order(session: Session, message: str) -> UploadOutOfOrder:
    return UploadOutOfOrder(message, name=session.name, upload_id=session.upload_id, offset=session.offset)


def _hashes(session: Session, data: bytes) -> dict[str, ResumableHash]:
    hashes = {a: ResumableHash(a, s) for a, s in session.hash_states.items()}
    for h in hashes.values():
        h.update(data)
    return hashes


def _buffered(session: Session, data: bytes) -> bytes:
    return (objects.get(session.pending_key()) if session.pending else b"") + data


def append(session: Session, data: bytes) -> Session:
    """Add a chunk. Returns the session as stored, or 416 when another chunk won the race."""
    if not data:
        return session
    hashes = _hashes(session, data)
    buffered = _buffered(session, data)
    multipart_id, etags, pending = session.multipart_id, list(session.etags), len(buffered)
    if len(buffered) >= PART_MIN_BYTES:
        multipart_id = multipart_id or objects.start_multipart(session.data_key)
        etags.append(objects.upload_part(session.data_key, multipart_id, len(etags) + 1, buffered))
        pending = 0
    else:
        objects.put(session.pending_key(session.version + 1), buffered)
    updated = Session(session.upload_id, session.name, session.offset + len(data), session.version + 1,
                      multipart_id, etags, pending, {a: h.state() for a, h in hashes.items()})
    try:
        store.advance(session.version, updated, clock.iso())
    except store.ConditionFailed as error:
        raise _out_of_order(session, "a concurrent chunk changed this upload") from error
    if session.pending:
        objects.delete(session.pending_key())
    return updated


def finish(session: Session, digest: str, data: bytes) -> int:
    """Verify the whole content against `digest`, store it once and link it. Returns its size.

    A wrong digest cancels the upload: nothing of it stays.
    """
    actual = _hashes(session, data)[algorithm_of(digest)].digest()
    if actual != digest:
        cancel(session)
        raise DomainError("DIGEST_INVALID", detail={"expected": digest, "actual": actual})
    size = session.offset + len(data)
    if blobs.stored_size(digest) is not None and blobs.link(session.name, digest, size):
        if session.multipart_id:
            objects.abort_multipart(session.data_key, session.multipart_id)
    else:
        _store(session, digest, _buffered(session, data))
        blobs.link_new(session.name, digest, size)
    _forget(session)
    return size


def _store(session: Session, digest: str, remainder: bytes) -> None:
    """Put the content at its blob key: one PUT when small, else complete the multipart and copy."""
    if session.multipart_id is None:
        objects.put(objects.blob_key(digest), remainder)
        return
    etags = list(session.etags)
    if remainder:
        etags.append(objects.upload_part(session.data_key, session.multipart_id, len(etags) + 1, remainder))
    objects.complete_multipart(session.data_key, session.multipart_id, etags)
    objects.copy(session.data_key, objects.blob_key(digest))
    objects.delete(session.data_key)


def cancel(session: Session) -> None:
    if session.multipart_id:
        objects.abort_multipart(session.data_key, session.multipart_id)
    _forget(session)


def _forget(session: Session) -> None:
    if session.pending:
        objects.delete(session.pending_key())
    store.delete(session.upload_id)
