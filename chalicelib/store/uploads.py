"""Upload sessions: PK=UPLOAD#<id>, SK=UPLOAD (GSI1PK=UPLOADS#<first hex digit of the id>,
GSI1SK=<started>#<id>: the upload purge lists them oldest first), with the byte offset, the S3 multipart id and part
ETags, the bytes not yet in a part (`pending`), the resumable hash states (`hash_<algorithm>`), and
`purge_at`, the table's TTL attribute: an abandoned session's item disappears by itself (and the upload
purge, chalicelib/operations/uploads.py, removes its bytes), `started` and `updated`. Each write
is conditional on the version the writer read, so of two racing chunks one wins."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from chalicelib.store import keys, metadata, objects
from chalicelib.store.metadata import ConditionFailed

__all__ = ["ConditionFailed"]

_HASH = "hash_"


@dataclass(frozen=True)
class Session:
    upload_id: str
    name: str  # the repository
    offset: int  # bytes received
    version: int  # writes so far
    multipart_id: str | None = None
    etags: list[str] = field(default_factory=list)  # of the parts uploaded, in order
    pending: int = 0  # bytes received but not yet in a part (in the pending object)
    hash_states: dict[str, bytes] = field(default_factory=dict)  # by algorithm

    @property
    def data_key(self) -> str:
        return objects.upload_key(self.upload_id, "data")

    def pending_key(self, version: int | None = None) -> str:
        return objects.upload_key(self.upload_id, f"pending-{self.version if version is None else version}")


_LISTING_SHARDS = "0123456789abcdef"  # sessions are listed by the first hex digit of their id


def _listing(upload_id: str) -> str:
    return f"UPLOADS#{upload_id[0]}"


def create(session: Session, started: str, purge_at: int) -> None:
    metadata.put({"PK": keys.upload(session.upload_id), "SK": keys.UPLOAD, "name": session.name, "offset": 0,
                  "version": 0, "etags": [], "pending": 0, "started": started, "purge_at": purge_at,
                  "GSI1PK": _listing(session.upload_id), "GSI1SK": f"{started}#{session.upload_id}",
                  **{f"{_HASH}{a}": s for a, s in session.hash_states.items()}}, if_absent=True)


def get(upload_id: str) -> Session | None:
    item = metadata.get(keys.upload(upload_id), keys.UPLOAD, consistent=True)
    if item is None:
        return None
    return Session(upload_id, item["name"], int(item["offset"]), int(item["version"]), item.get("multipart_id"),
                   list(item.get("etags", [])), int(item.get("pending", 0)),
                   {k[len(_HASH):]: bytes(v) for k, v in item.items() if k.startswith(_HASH)})


def advance(read_version: int, session: Session, now: str) -> None:
    """Write the session's new state; ConditionFailed when another writer changed it since
    `read_version` was read."""
    metadata.set_fields(keys.upload(session.upload_id), keys.UPLOAD, {
        "offset": session.offset, "version": session.version, "etags": session.etags, "pending": session.pending,
        "updated": now,
        "multipart_id": session.multipart_id, **{f"{_HASH}{a}": s for a, s in session.hash_states.items()}},
        expected={"version": read_version})


def delete(upload_id: str) -> None:
    metadata.delete(keys.upload(upload_id), keys.UPLOAD)


@dataclass(frozen=True)
class Activity:
    """When a session was last written to (the upload purge keeps sessions in use)."""

    last_write: str
    version: int


def activity(upload_id: str) -> Activity | None:
    item = metadata.get(keys.upload(upload_id), keys.UPLOAD, consistent=True)
    if item is None:
        return None
    return Activity(max(item.get("started", ""), item.get("updated", "")), int(item.get("version", 0)))


def started_before(moment: str) -> Iterator[str]:
    """The ids of the sessions started before `moment` (GSI1, oldest first in each of 16 partitions)."""
    for shard in _LISTING_SHARDS:
        for item in metadata.iterate(f"UPLOADS#{shard}", index="GSI1", attributes=["GSI1SK"]):
            started, _, upload_id = item["GSI1SK"].partition("#")
            if started >= moment:
                break
            yield upload_id


def delete_unless_written(upload_id: str, seen: Activity) -> None:
    """ConditionFailed when the session was written since `seen` was read."""
    metadata.transact([metadata.delete_op(keys.upload(upload_id), keys.UPLOAD,
                                          expected={"version": seen.version})])
