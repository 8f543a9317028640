"""Pull bookkeeping off the request path: a pull is buffered, and the pull recorder (functions/pulls.py)
writes a batch of them at once.

The buffer is a Redis stream (`{hr}:pulls`, one XADD, well under a millisecond) read by the recorder's
consumer group each minute; while the cache is off or away, the pull queue (SQS) instead, consumed as
its messages come. An entry is acknowledged and deleted once written; one whose recorder failed or
stopped is claimed again by a later run after `pull_retry_seconds`, and parked in the pull dead-letter
queue after `_MAX_DELIVERIES`, as SQS's redrive does for the queue.

A pull's message carries its audit record's id, made when it was answered, so the record is the same
item however often the message is delivered. The record is also the proof that the pull was counted:
each repository's share of a batch is written in transactions that put its records (only if absent), add to
the repository's pull count and to the audit counters, and set each artifact's pull time, as many
pulls per transaction as its 100 writes hold. A message delivered again finds its record there; the
transaction is then redone without it. Hence exact counts, with at-least-once delivery, and one count
and pull-time write per artifact for every ~90 pulls.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass

import redis

from chalicelib.config import settings
from chalicelib.observability import logger
from chalicelib.store import audit, cache, keys, metadata, queue

_STREAM, _GROUP = "{hr}:pulls", "recorder"  # in the cache's hash slot and under its ACL (store/cache.py)
_MAX_DELIVERIES = 5


@dataclass(frozen=True)
class Pull:
    record_id: int  # the audit record's id; it holds the pull's time
    project_id: int
    project: str
    repository: str
    reference: str
    digest: str
    username: str

    @property
    def audit_item(self) -> metadata.Item:
        return audit.item(self.record_id, self.project_id, self.project, "pull", "artifact",
                          f"{self.repository}:{self.reference}", self.username)


def new_pull(project_id: int, project: str, repository: str, reference: str, digest: str, username: str) -> Pull:
    """A pull being answered now."""
    return Pull(audit.new_id(), project_id, project, repository, reference, digest, username)


def send(pull: Pull) -> None:
    """To the stream, else to the queue. A stream write that timed out may still have landed: the pull
    then reaches the recorder twice, which counts it once (its record id)."""
    client = cache.connection()
    if client is not None:
        try:
            client.xadd(_STREAM, {"pull": json.dumps(asdict(pull))})
            return
        except redis.RedisError as error:
            cache.unreachable(error)
    queue.send(asdict(pull), queue_url=settings().pull_queue_url)


def parse(body: str) -> Pull:
    fields = json.loads(body)
    fields.pop("request_id", None)  # the queue's (store/queue.py)
    return Pull(**fields)


@dataclass(frozen=True)
class Buffered:
    """A pull read from the stream, and how often it was read (this time included)."""

    entry_id: str
    pull: Pull
    deliveries: int


def claim(consumer: str, count: int) -> list[Buffered]:
    """Up to `count` buffered pulls for this recorder: first those a run left unacknowledged for
    `pull_retry_seconds` (one still being written by a live run is younger), then new ones. None while
    the cache is off or away: its pulls wait in the stream, later ones go to the queue."""
    client = cache.connection()
    if client is None:
        return []
    retry_ms = int(settings().pull_retry_seconds * 1000)
    try:
        try:
            client.xgroup_create(_STREAM, _GROUP, id="0", mkstream=True)
        except redis.ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise
        stale = client.xpending_range(_STREAM, _GROUP, min="-", max="+", count=count, idle=retry_ms)
        deliveries = {p["message_id"]: p["times_delivered"] + 1 for p in stale}
        entries = client.xclaim(_STREAM, _GROUP, consumer, retry_ms, list(deliveries)) if deliveries else []
        if len(entries) < count:
            for _, fresh in client.xreadgroup(_GROUP, consumer, {_STREAM: ">"}, count=count - len(entries)):
                entries += fresh
    except redis.RedisError as error:
        cache.unreachable(error)
        return []
    return [Buffered(entry_id, Pull(**json.loads(fields["pull"])), deliveries.get(entry_id, 1))
            for entry_id, fields in entries if fields]


def written(entries: Iterable[Buffered]) -> None:
    """Acknowledge and delete these entries at once: a stream keeps what it was given until deleted."""
    ids = [entry.entry_id for entry in entries]
    if not ids:
        return
    client = cache.connection()
    if client is None:  # they stay pending and come back: their records keep them from counting twice
        return
    try:
        pipeline = client.pipeline(transaction=True)
        pipeline.xack(_STREAM, _GROUP, *ids)
        pipeline.xdel(_STREAM, *ids)
        pipeline.execute()
    except redis.RedisError as error:
        cache.unreachable(error)


def failed(entries: Iterable[Buffered]) -> None:
    """Entries left for a later run; those read too often are parked in the dead-letter queue."""
    parked = [entry for entry in entries if entry.deliveries >= _MAX_DELIVERIES]
    for entry in parked:
        queue.send(asdict(entry.pull), queue_url=settings().pull_dead_letter_queue_url)
    if parked:
        logger.error("pulls parked in the dead-letter queue", extra={"pulls": len(parked)})
        written(parked)



def by_repository(pulls: Iterable[Pull]) -> dict[str, list[Pull]]:
    """The pulls of each repository (a message delivered twice in one batch counts once)."""
    grouped: dict[str, list[Pull]] = {}
    for pull in {p.record_id: p for p in pulls}.values():
        grouped.setdefault(pull.repository, []).append(pull)
    return grouped


def record(repository: str, pulls: list[Pull]) -> None:
    """Write one repository's pulls of a batch (see the module's docstring). A repository or an artifact
    deleted meanwhile is left out; the pulls' audit records are still written."""
    for chunk in _chunks(pulls):
        _record_chunk(repository, chunk)


def _chunks(pulls: list[Pull]) -> Iterator[list[Pull]]:
    """As many pulls per transaction as its 100 writes hold: their records, one pull time per artifact,
    one count per audit shard, the pull count (90 pulls of one artifact at once)."""
    chunk: list[Pull] = []
    artifacts: set[str] = set()
    counters: set[tuple[str, str]] = set()
    for pull in pulls:
        counter = audit.counter_key(pull.audit_item)
        writes = len(chunk) + 1 + len(artifacts | {pull.digest}) + len(counters | {counter}) + 1
        if chunk and writes > metadata.TRANSACTION_LIMIT:
            yield chunk
            chunk, artifacts, counters = [], set(), set()
        chunk.append(pull)
        artifacts.add(pull.digest)
        counters.add(counter)
    if chunk:
        yield chunk


def _record_chunk(repository: str, pulls: list[Pull]) -> None:
    for _ in range(3):  # each retry drops what a delivery before this one already wrote
        pending = _not_yet_recorded(pulls)
        if not pending:
            return
        try:
            metadata.transact(_writes(repository, pending, *_targets(repository, pending)))
            return
        except metadata.ConditionFailed:
            continue
    raise RuntimeError(f"the pulls of {repository} could not be recorded: their targets keep changing")


def _not_yet_recorded(pulls: list[Pull]) -> list[Pull]:
    items = [p.audit_item for p in pulls]
    present = {(i["PK"], i["SK"]) for i in metadata.batch_get(((i["PK"], i["SK"]) for i in items), attributes=[],
                                                               consistent=True)}
    return [p for p, i in zip(pulls, items, strict=True) if (i["PK"], i["SK"]) not in present]


def _targets(repository: str, pulls: Iterable[Pull]) -> tuple[bool, set[str]]:
    """Whether the repository is still in the catalog, and which of the pulled artifacts are still there."""
    digests = {p.digest for p in pulls}
    found = metadata.batch_get([(keys.CATALOG, repository), *((keys.repository(repository), keys.manifest(d))
                                                               for d in digests)], attributes=[], consistent=True)
    present = {(i["PK"], i["SK"]) for i in found}
    return ((keys.CATALOG, repository) in present,
            {d for d in digests if (keys.repository(repository), keys.manifest(d)) in present})


def _writes(repository: str, pulls: list[Pull], listed: bool, artifacts: set[str]) -> list[metadata.Write]:
    writes: list[metadata.Write] = [metadata.put_op(p.audit_item, if_absent=True) for p in pulls]
    counters = Counter(audit.counter_key(p.audit_item) for p in pulls)
    writes += [metadata.set_fields_op(pk, sk, {}, add={"records": n}) for (pk, sk), n in counters.items()]
    if listed:
        writes.append(metadata.set_fields_op(keys.CATALOG, repository, {}, add={"pull_count": len(pulls)},
                                             must_exist=True))
    last_pulled: dict[str, int] = {}
    for pull in pulls:
        if pull.digest in artifacts:
            last_pulled[pull.digest] = max(last_pulled.get(pull.digest, 0), pull.record_id)
    writes += [metadata.set_fields_op(keys.repository(repository), keys.manifest(digest),
                                      {"pull_time": audit.time_of(record_id)}, must_exist=True)
               for digest, record_id in last_pulled.items()]
    return writes
