"""Audit records in DynamoDB, newest first.

Item: PK=AUDIT#<shard>, SK=<op_time>#<id> (writes spread over SHARDS partitions, since every pull
writes one), and GSI1PK=AUDITP#<project id>, GSI1SK=<op_time>#<id> for a project's log (by id: a later
project of the same name does not see a deleted one's records, which stay in the system log). Lists merge
the sorted shard (or project) streams, so a page costs Query pages, never a table scan.
Ids come from the time and random bits: no counter write on the pull path.
"""

from __future__ import annotations

import heapq
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chalicelib import clock
from chalicelib.store import metadata
from chalicelib.store.projects import Project

SHARDS = 8
OPERATIONS = ("create", "delete", "pull")
RESOURCE_TYPES = ("artifact", "tag", "project", "repository")


@dataclass(frozen=True)
class AuditRecord:
    id: int
    project: str
    operation: str
    resource_type: str
    resource: str
    username: str
    op_time: str


_last_id = 0
_id_lock = threading.Lock()


def new_id() -> int:
    """Milliseconds since the epoch, then 12 random bits: unique in practice, ordered by time, and
    strictly increasing within one process (two records of one millisecond keep their order)."""
    global _last_id
    with _id_lock:
        _last_id = max((time.time_ns() // 1_000_000) << 12 | secrets.randbits(12), _last_id + 1)
        return _last_id


def time_of(record_id: int) -> str:
    """When the record with this id happened (its id holds the time)."""
    return clock.iso(datetime.fromtimestamp((record_id >> 12) / 1000, UTC))


def new_nonce() -> int:
    """What tells apart two records that got the same id: ids fit JavaScript's 53-bit integers, so two
    Lambda instances (or local API workers) write the same id now and then (12 random bits per
    millisecond: about once a second at 3,000 records/s); the nonce keeps them two records."""
    return secrets.randbits(63) | 1


def item(record_id: int, project_id: int, project_name: str, operation: str, resource_type: str, resource: str,
         username: str, nonce: int) -> metadata.Item:
    """The item of one record, in the shard its id picks. The same id and nonce always make the same
    item, so a record written twice is one record. (Records written before nonces have none.)"""
    op_time = time_of(record_id)
    sort_key = f"{op_time}#{record_id:020d}#{nonce:016x}"
    return {"PK": f"AUDIT#{record_id % SHARDS}", "SK": sort_key, "GSI1PK": f"AUDITP#{project_id}",
            "GSI1SK": sort_key, "id": record_id, "project": project_name, "project_id": project_id,
            "operation": operation, "resource_type": resource_type, "resource": resource,
            "username": username or "anonymous", "op_time": op_time}


def entry(project: Project, operation: str, resource_type: str, resource: str, username: str) -> metadata.Item:
    return item(new_id(), project.project_id, project.name, operation, resource_type, resource, username,
                new_nonce())


def counter_key(item: metadata.Item) -> tuple[str, str]:
    """The count item a record adds to: PK=AUDITCOUNT#<its shard>, SK=<its project id>."""
    return f"AUDITCOUNT#{item['id'] % SHARDS}", str(item["project_id"])


def write(item: metadata.Item) -> None:
    """The record, and +1 on its project's counter in the record's shard (one transaction), so totals are
    read, never counted."""
    metadata.transact([metadata.put_op(item), metadata.set_fields_op(*counter_key(item), {}, add={"records": 1})])


def forwarded(item: metadata.Item) -> dict[str, Any]:
    """What the forwarder needs of a record (Harbor's AuditLog fields)."""
    return {k: item[k] for k in ("id", "operation", "resource_type", "resource", "username", "op_time")}


def _record(item: metadata.Item) -> AuditRecord:
    return AuditRecord(int(item["id"]), item["project"], item["operation"], item["resource_type"], item["resource"],
                       item["username"], item["op_time"])


def _merge(streams: list[Iterator[metadata.Item]], descending: bool) -> Iterator[AuditRecord]:
    merged = heapq.merge(*streams, key=lambda item: item["SK"], reverse=descending)
    return (_record(item) for item in merged)


def iter_all(*, descending: bool = True, page_size: int = 500) -> Iterator[AuditRecord]:
    """Every record in time order; `page_size` bounds what each shard reads ahead."""
    return _merge([metadata.iterate(f"AUDIT#{shard}", descending=descending, page_size=page_size)
                   for shard in range(SHARDS)], descending)


def iter_projects(project_ids: list[int], *, descending: bool = True,
                  page_size: int = 500) -> Iterator[AuditRecord]:
    return _merge([metadata.iterate(f"AUDITP#{p}", index="GSI1", descending=descending, page_size=page_size)
                   for p in project_ids], descending)


def count_all() -> int:
    """The sum of every project's counters (one small Query per shard)."""
    return sum(int(i.get("records", 0)) for shard in range(SHARDS) for i in metadata.iterate(f"AUDITCOUNT#{shard}"))


def count_projects(project_ids: list[int]) -> int:
    keys = [(f"AUDITCOUNT#{shard}", str(project_id)) for shard in range(SHARDS) for project_id in project_ids]
    return sum(int(i.get("records", 0)) for i in metadata.batch_get(keys))


def _partition_page(shard: int, after: str | None, limit: int) -> tuple[list[metadata.Item], str | None]:
    return metadata.query(f"AUDIT#{shard}", after=after, limit=limit, attributes=["SK", "id", "project_id",
                                                                                  "operation"])


def purge_page(shard: int, before: str, operations: set[str], after: str | None, *, dry_run: bool,
               limit: int = 1000) -> tuple[int, str | None]:
    """Delete (or, in a dry run, count) the shard's records older than `before` (an op_time) whose
    operation is one of `operations`, reading at most `limit` records from after `after`. Each record
    goes with -1 on its counter, in transactions. Returns how many went and where to go on from (None:
    the shard holds no older record)."""
    items, more = _partition_page(shard, after, limit)
    older = [i for i in items if i["SK"] < before]
    chosen = [i for i in older if str(i.get("operation", "")).lower() in operations]
    purged = len(chosen) if dry_run else _delete_records(chosen)
    done = len(older) < len(items) or more is None
    return purged, None if done else (older[-1]["SK"] if older else after)


def _delete_records(chosen: list[metadata.Item]) -> int:
    """Records and their counters' decrements, as many per transaction as fit; a transaction that
    fails (a record already gone) is done again record by record."""
    purged = 0
    for group in _transaction_groups(chosen):
        try:
            metadata.transact(_purge_ops(group))
            purged += len(group)
        except metadata.ConditionFailed:
            for one in group:
                try:
                    metadata.transact(_purge_ops([one]))
                    purged += 1
                except metadata.ConditionFailed:
                    continue
    return purged


def _transaction_groups(items: list[metadata.Item]) -> Iterator[list[metadata.Item]]:
    group: list[metadata.Item] = []
    counters: set[tuple[str, str]] = set()
    for record in items:
        new_counters = counters | {counter_key(record)}
        if len(group) + 1 + len(new_counters) > metadata.TRANSACTION_LIMIT:
            yield group
            group, new_counters = [], {counter_key(record)}
        group.append(record)
        counters = new_counters
    if group:
        yield group


def _purge_ops(group: list[metadata.Item]) -> list[metadata.Write]:
    decrements: dict[tuple[str, str], int] = {}
    for record in group:
        decrements[counter_key(record)] = decrements.get(counter_key(record), 0) + 1
    shard_of = {record["SK"]: f"AUDIT#{int(record['id']) % SHARDS}" for record in group}
    return [*(metadata.delete_op(shard_of[r["SK"]], r["SK"], must_exist=True) for r in group),
            *(metadata.set_fields_op(pk, sk, {}, add={"records": -n}) for (pk, sk), n in decrements.items())]
