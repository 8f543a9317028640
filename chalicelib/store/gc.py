"""What garbage collection reads and writes (chalicelib/operations/gc.py).

- Marks: PK=GCMARK#<run>#<digest>, SK=MARK, one per digest the run found live, written in batches
  and expiring a day later (`purge_at`, the table's TTL).
- A repository's links (PK=REPO#<name>, SK=BLOB#<digest>), deleted only as the run read them: a manifest
  push that touched a link since (store/manifests.py) keeps it.
- A blob's global record (PK=BLOB#<digest>, SK=BLOB) goes `gc_state` = deleting, with the run's id,
  only as the run read it (its `created` and `touched`), or is put so when S3 holds bytes without a
  record; a record in that state cannot be touched or written (store/blobs.py), so no new use of the
  bytes can begin while they are deleted. After the bytes are gone the record is deleted; when S3
  refuses, the state is cleared and `gc_failures` counts it, and the next run tries again.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from chalicelib.store import cache, keys, metadata
from chalicelib.store.manifests import repository_scope
from chalicelib.store.metadata import ConditionFailed

T = TypeVar("T")
DELETING = "deleting"


def _mark_key(run: str, digest: str) -> tuple[str, str]:
    return f"GCMARK#{run}#{digest}", "MARK"


def mark_live(run: str, digests: Iterable[str], purge_at: int) -> None:
    metadata.batch_put({"PK": pk, "SK": sk, "purge_at": purge_at}
                       for pk, sk in (_mark_key(run, d) for d in digests))


def marked(run: str, digests: list[str]) -> set[str]:
    """Those of the digests the run marked live."""
    by_key = {_mark_key(run, d): d for d in digests}
    return {by_key[(i["PK"], i["SK"])] for i in metadata.batch_get(by_key, ["PK", "SK"], consistent=True)}


@dataclass(frozen=True)
class Link:
    digest: str
    size: int
    created: str
    touched: str | None


def links(name: str) -> Iterator[Link]:
    for item in metadata.iterate(keys.repository(name), keys.BLOB_PREFIX,
                                 attributes=["SK", "size", "created", "touched"]):
        yield Link(item["SK"][len(keys.BLOB_PREFIX):], int(item.get("size", 0)), item.get("created", ""),
                   item.get("touched"))


def delete_links(name: str, stale: list[Link]) -> list[Link]:
    """Delete each link unless touched since it was read; the links deleted."""
    deleted = _each_as_read([(link, metadata.delete_op(keys.repository(name), keys.blob(link.digest), expected={
        "created": link.created, "touched": link.touched})) for link in stale])
    if deleted:
        cache.invalidate([repository_scope(name)])
    return deleted


def _each_as_read(writes: list[tuple[T, metadata.Write]]) -> list[T]:
    """Conditional writes, a transaction per 100; when one loses a race, its chunk is done again write by
    write. The subjects of the writes made."""
    made: list[T] = []
    for start in range(0, len(writes), metadata.TRANSACTION_LIMIT):
        chunk = writes[start:start + metadata.TRANSACTION_LIMIT]
        try:
            metadata.transact([write for _, write in chunk])
            made += [subject for subject, _ in chunk]
        except ConditionFailed:
            for subject, write in chunk:
                try:
                    metadata.transact([write])
                except ConditionFailed:
                    continue
                made.append(subject)
    return made


@dataclass(frozen=True)
class StoredRecord:
    digest: str
    size: int
    created: str
    touched: str | None
    state: str | None
    run: str | None  # the run that set the state
    failures: int = 0  # deletions S3 refused before

    @property
    def last_use(self) -> str:
        return max(self.created, self.touched or "")


def stored_records(digests: list[str]) -> dict[str, StoredRecord]:
    by_key = {(keys.blob(d), keys.BLOB): d for d in digests}
    found = metadata.batch_get(by_key, ["PK", "SK", "size", "created", "touched", "gc_state", "gc_run", "gc_failures"],
                               consistent=True)
    return {by_key[(i["PK"], i["SK"])]: StoredRecord(by_key[(i["PK"], i["SK"])], int(i.get("size", 0)),
                                                     i.get("created", ""), i.get("touched"), i.get("gc_state"),
                                                     i.get("gc_run"), int(i.get("gc_failures", 0)))
            for i in found}


@dataclass(frozen=True)
class Candidate:
    digest: str
    record: StoredRecord | None  # None: bytes in S3 without a record
    size: int  # of the bytes in S3
    modified: str  # when S3 last wrote them


def _claim_op(run: str, candidate: Candidate) -> metadata.Write:
    """The record written back whole in the deleting state (a put, not an update: the same guarantee at
    the same cost on DynamoDB, and the emulator's update path costs several times a put's)."""
    pk, sk, record = keys.blob(candidate.digest), keys.BLOB, candidate.record
    claimed = {"PK": pk, "SK": sk, "gc_state": DELETING, "gc_run": run}
    if record is None:  # the record a release leaves is a true one
        return metadata.put_op({**claimed, "size": candidate.size, "created": candidate.modified}, if_absent=True)
    kept = {"size": record.size, "created": record.created, "touched": record.touched,
            "gc_failures": record.failures or None}
    return metadata.put_op({**claimed, **{k: v for k, v in kept.items() if v is not None}}, expected={
        "created": record.created, "touched": record.touched, "gc_state": record.state, "gc_run": record.run})


def claim(run: str, candidates: list[Candidate]) -> list[Candidate]:
    """Move the candidates' records to `deleting`, each only as it was read; those claimed."""
    return _each_as_read([(c, _claim_op(run, c)) for c in candidates])


def forget_records(digests: list[str]) -> None:
    """The records of bytes now deleted (no one else writes a record in the deleting state)."""
    metadata.batch_delete((keys.blob(d), keys.BLOB) for d in digests)


def release(run: str, digests: list[str]) -> None:
    """Bytes S3 would not delete: the records go back to use, counted in `gc_failures`, for the next run."""
    for digest in digests:
        try:
            metadata.set_fields(keys.blob(digest), keys.BLOB, {"gc_state": None, "gc_run": None},
                                add={"gc_failures": 1}, expected={"gc_run": run})
        except ConditionFailed:
            continue
