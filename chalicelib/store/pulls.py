"""Pull bookkeeping off the request path: a pull is buffered, and the pull recorder (functions/pulls.py)
writes a batch of them at once.

The buffer is the pull queue (SQS): one SendMessage before the pull is answered, so an answered pull is
kept however the cache or an instance fails (it used to be a Redis stream, whose entries died with the
cache: ElastiCache replicates asynchronously and a node's failure may lose its latest writes). The
queue's messages come to the recorder in batches (its SQS event source: up to 1,000 pulls gathered
for up to 5 s); a message whose repository could not be written is delivered again after the queue's
visibility timeout, and parked in the pull dead-letter queue after five receives (the queue's redrive).

A pull carries its audit record's id and nonce, made when it was answered, so the record is the same
item however often the pull is delivered. The record is also the proof that the pull was counted. Each
repository's share of a batch is written in two steps:
1. `tally`: transactions of 99 records (put only if absent) and one update of a tally item of this
   run (PULLTALLY), adding their count per audit counter and to the pulls, and setting each
   artifact's latest pull time; a pull whose record is there already is left out;
2. `transfer`: one transaction adds the tally to the repository's pull count and the audit counters,
   sets each artifact's pull time and deletes the tally, conditional on the tally being unchanged.
Hence exact counts with at-least-once delivery, and one write per artifact, per repository and per
audit counter for each batch, however many pulls it holds (a popular image's item is never a hot
key). A run that stopped between the steps leaves its tally, moved by the recorder's schedule
(`transfer_stale_tallies`).
"""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from itertools import takewhile

from chalicelib.config import settings
from chalicelib.store import audit, keys, metadata, queue

_RECORDS_PER_TALLY = metadata.TRANSACTION_LIMIT - 1  # and the tally's update
_SEEN_TTL_SECONDS = 14 * 24 * 3600  # SQS's longest retention
_PULLED, _COUNTED = "pulled|", "counted|"  # a tally's attributes: <digest> -> latest record id, <counter> -> n


@dataclass(frozen=True)
class Pull:
    record_id: int  # the audit record's id; it holds the pull's time
    project_id: int
    project: str
    repository: str
    reference: str
    digest: str
    username: str
    nonce: int = 0  # with the record id, what makes the pull one (store/audit.py: new_nonce)

    @property
    def key(self) -> tuple[int, int]:
        return self.record_id, self.nonce

    @property
    def audit_item(self) -> metadata.Item:
        return audit.item(self.record_id, self.project_id, self.project, "pull", "artifact",
                          f"{self.repository}:{self.reference}", self.username, self.nonce)

    def counted_item(self, keep_record: bool) -> metadata.Item:
        """What says the pull was counted: its audit record, or, when pull records are not kept
        (pull_audit_log_disable, skip_audit_log_database), a marker beside the log that expires once no
        delivery of the pull can come again."""
        record = self.audit_item
        if keep_record:
            return record
        return {"PK": f"PULLSEEN#{self.record_id % audit.SHARDS}", "SK": record["SK"],
                "purge_at": int(time.time()) + _SEEN_TTL_SECONDS}


def new_pull(project_id: int, project: str, repository: str, reference: str, digest: str, username: str) -> Pull:
    """A pull being answered now."""
    return Pull(audit.new_id(), project_id, project, repository, reference, digest, username, audit.new_nonce())


def send(pull: Pull) -> None:
    """To the pull queue: kept from then on, whatever fails."""
    queue.send(asdict(pull), queue_url=settings().pull_queue_url)


def parse(body: str) -> Pull:
    fields = json.loads(body)
    fields.pop("request_id", None)  # the queue's (store/queue.py)
    return Pull(**fields)


def by_repository(pulls: Iterable[Pull]) -> dict[str, list[Pull]]:
    """The pulls of each repository (a message delivered twice in one batch counts once)."""
    grouped: dict[str, list[Pull]] = {}
    for pull in {p.key: p for p in pulls}.values():
        grouped.setdefault(pull.repository, []).append(pull)
    return grouped


def record(repository: str, pulls: list[Pull], *, keep_records: bool = True) -> None:
    """Write one repository's pulls of a batch (see the module's docstring). A repository or an artifact
    deleted meanwhile is left out; the pulls' audit records are still written (unless not kept)."""
    written = tally(repository, pulls, keep_records)
    if written is not None:
        transfer(written)


def tally(repository: str, pulls: list[Pull], keep_records: bool = True) -> tuple[str, str] | None:
    """The first step of `record`: the pulls' records, not yet written, and their counts and latest
    times in a new tally, in transactions of 99 records and the tally's update. Returns the tally's key,
    None when every record was there already."""
    key = (keys.PULL_TALLIES, f"{time.time_ns() // 1_000_000:013d}#{uuid.uuid4().hex}")
    ordered = sorted(pulls, key=lambda pull: pull.record_id)  # a later chunk holds later pull times
    written = [_tally_chunk(repository, key, ordered[i:i + _RECORDS_PER_TALLY], keep_records)
               for i in range(0, len(ordered), _RECORDS_PER_TALLY)]
    return key if any(written) else None


def _tally_chunk(repository: str, key: tuple[str, str], pulls: list[Pull], keep_records: bool) -> bool:
    for _ in range(3):  # each retry drops what a delivery before this one already wrote
        pending = _not_yet_recorded(pulls, keep_records)
        if not pending:
            return False
        latest: dict[str, int] = {}
        for pull in pending:
            latest[pull.digest] = max(latest.get(pull.digest, 0), pull.record_id)
        counted = Counter(_COUNTED + "|".join(audit.counter_key(p.audit_item)) for p in pending if keep_records)
        try:
            metadata.transact([*(metadata.put_op(p.counted_item(keep_records), if_absent=True) for p in pending),
                               metadata.set_fields_op(*key, {"repository": repository,
                                                             **{_PULLED + d: i for d, i in latest.items()}},
                                                      add={"pulls": len(pending), **counted})])
            return True
        except metadata.ConditionFailed:
            continue
    raise RuntimeError(f"the pulls of {repository} could not be recorded: their records keep appearing")


def transfer(key: tuple[str, str]) -> None:
    """The second step of `record`: add a tally's counts to the repository's pull count and the audit
    counters, set its artifacts' pull times, and delete it, at once (in parts when its artifacts exceed a
    transaction, each part forgetting what it moved). Every write is conditional on the tally's count,
    so a tally that grew meanwhile is read again, and one moved by another run is left alone."""
    for _ in range(5):
        item = metadata.get(*key, consistent=True)
        if item is None:
            return
        try:
            _transfer(key, item)
            return
        except metadata.ConditionFailed:
            continue
    raise RuntimeError(f"the pull tally {key[1]} could not be moved: it keeps changing")


def _transfer(key: tuple[str, str], item: metadata.Item) -> None:
    repository, unchanged = item["repository"], {"pulls": item["pulls"]}
    pulled = {name[len(_PULLED):]: int(value) for name, value in item.items() if name.startswith(_PULLED)}
    listed, present = _targets(repository, pulled)
    moves = [(_PULLED + digest, metadata.set_fields_op(keys.repository(repository), keys.manifest(digest),
                                                      {"pull_time": audit.time_of(record_id)}, must_exist=True))
             for digest, record_id in pulled.items() if digest in present]
    final: list[metadata.Write] = [
        metadata.set_fields_op(*name[len(_COUNTED):].split("|", 1), {}, add={"records": int(value)})
        for name, value in item.items() if name.startswith(_COUNTED)]
    if listed:
        final.append(metadata.set_fields_op(keys.CATALOG, repository, {}, add={"pull_count": int(item["pulls"])},
                                            must_exist=True))
    final.append(metadata.delete_op(*key, expected=unchanged))
    room = metadata.TRANSACTION_LIMIT - len(final)
    while len(moves) > room:
        part, moves = moves[:metadata.TRANSACTION_LIMIT - 1], moves[metadata.TRANSACTION_LIMIT - 1:]
        metadata.transact([*(write for _, write in part),
                           metadata.set_fields_op(*key, {}, remove=[name for name, _ in part], expected=unchanged)])
    metadata.transact([*(write for _, write in moves), *final])


def transfer_stale_tallies() -> int:
    """Move the tallies a run left behind (it stopped between its two steps) once they are older than
    `pull_retry_seconds`: a live run moves its own sooner. Returns how many were moved."""
    cutoff = f"{int((time.time() - settings().pull_retry_seconds) * 1000):013d}~"
    stale = list(takewhile(lambda sort_key: sort_key < cutoff,
                           (item["SK"] for item in metadata.iterate(keys.PULL_TALLIES, attributes=[]))))
    for sort_key in stale:
        transfer((keys.PULL_TALLIES, sort_key))
    return len(stale)


def _not_yet_recorded(pulls: list[Pull], keep_records: bool) -> list[Pull]:
    items = [p.counted_item(keep_records) for p in pulls]
    present = {(i["PK"], i["SK"]) for i in metadata.batch_get(((i["PK"], i["SK"]) for i in items), attributes=[],
                                                               consistent=True)}
    return [p for p, i in zip(pulls, items, strict=True) if (i["PK"], i["SK"]) not in present]


def _targets(repository: str, digests: Iterable[str]) -> tuple[bool, set[str]]:
    """Whether the repository is still in the catalog, and which of these artifacts are still there."""
    digests = set(digests)
    found = metadata.batch_get([(keys.CATALOG, repository), *((keys.repository(repository), keys.manifest(d))
                                                               for d in digests)], attributes=[], consistent=True)
    present = {(i["PK"], i["SK"]) for i in found}
    return ((keys.CATALOG, repository) in present,
            {d for d in digests if (keys.repository(repository), keys.manifest(d)) in present})
