"""What the embedded AWS emulator (moto) needs to behave as AWS does under concurrent requests.

moto's DynamoDB applies a transaction's writes one by one, checks conditions and writes without a
lock, and rolls a failed transaction back by putting back a copy of the whole table taken before it
began: two requests at once can both pass a condition meant to let one through, and a rollback
silently undoes writes that other requests made meanwhile. DynamoDB itself applies each request
atomically. `serialize_dynamodb()` gives the emulator that guarantee by running one DynamoDB request
at a time (the local stack and the in-process tests both call it); the registry's code is unchanged.
With requests one at a time, a failed transaction is rolled back by putting back copies of the items
it names, taken before it began: the copy of the whole table moto takes for every transaction made a
transaction cost as much as the table is large (a fifth of the local stack's time under a pull load
whose bookkeeping wrote a few thousand audit records).

`serialize_s3()`: moto's S3 keeps a bucket's keys in one dict that a listing iterates while another
request deletes from it: garbage collection's parallel sweep tasks made ListObjectsV2 fail with a
KeyError. It runs one S3 request at a time.

`serialize_sqs()`: moto's SQS rebuilds a queue's message list on every delete while a send appends to
the list being rebuilt (a message sent at that instant is gone), and two receives at once can take the
same message: one SQS request at a time, a long poll letting go while it waits. Seen as a batch of
queued pulls counted six minutes late (the queue's visibility timeout) under 1,000 concurrent pulls.

`bounded_query_costs()`: moto's Query of a partition lists and sorts every item of the table, then
keeps the partition's, so a Query cost what the whole table holds (seconds per Query at 200,000 items:
garbage collection's mark phase reads two partitions per repository); it lists the partition only.

`bounded_queue_costs()`: moto's SQS checks each received message's retention by computing every
attribute of its queue, counting its messages among them, so a receive cost the square of the backlog.

`forget_model_instances()` stops moto from keeping every model object it ever made: its BaseModel
appends each new instance to a class-level list, emptied only by a reset. DynamoDB deep-copies the whole
table for every transaction (its rollback copy) and a pushed blob is an S3 key object, so the list held
every copy of every item and every deleted blob: gigabytes after a few thousand pushes and deletes.

`track_changes()` counts the emulator's writes (`generation()`), so the launcher's snapshots of
its state (infra/snapshot.py) are taken only when something changed. `frozen()` holds the DynamoDB and
S3 locks at once, so what a snapshot reads meanwhile is one moment of both.
"""

from __future__ import annotations

import copy
import functools
import importlib
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

_dynamodb_lock = threading.RLock()
_s3_lock = threading.RLock()  # its own: an S3 request never waits on DynamoDB's
_sqs_lock = threading.RLock()
_LOCKS = {"dynamodb": _dynamodb_lock, "s3": _s3_lock}
_applied = False


@contextmanager
def frozen(*services: str) -> Iterator[None]:
    """No request of these services ("dynamodb", "s3"; both when none is named) runs meanwhile (once
    serialize_dynamodb and serialize_s3 are applied). Taken in one order, so two callers never deadlock."""
    with ExitStack() as held:
        for name, lock in _LOCKS.items():
            if not services or name in services:
                held.enter_context(lock)
        yield


def _serialized(method: Callable[..., Any], lock: threading.RLock) -> Callable[..., Any]:
    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        with lock:
            return method(*args, **kwargs)
    return call


def behave_as_aws() -> None:
    """Every fix below at once, as the local stack, the unit tests and the benchmarks all want them."""
    serialize_dynamodb()
    bounded_query_costs()
    serialize_s3()
    serialize_sqs()
    bounded_queue_costs()
    forget_model_instances()


def serialize_dynamodb() -> None:
    """Wrap every public operation of moto's DynamoDB backend in one lock, and roll failed transactions
    back item by item (idempotent)."""
    global _applied
    if _applied:
        return
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    DynamoDBBackend.transact_write_items = _item_rollback(DynamoDBBackend.transact_write_items)
    Table.__deepcopy__ = lambda table, memo: table  # moto's whole-table rollback copy: see _item_rollback
    for name, member in list(vars(DynamoDBBackend).items()):
        if callable(member) and not name.startswith("_"):
            setattr(DynamoDBBackend, name, _serialized(member, _dynamodb_lock))
    _applied = True


def _item_rollback(transact: Callable[..., Any]) -> Callable[..., Any]:
    """Copies of the items a transaction names, put back when it fails (moto puts back its "copy" of the
    table, which is now the table itself)."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    @functools.wraps(transact)
    def call(backend: Any, transact_items: list[dict[str, Any]]) -> Any:
        saved = []
        for entry in transact_items:
            op = next(iter(entry.values()))
            table = backend.tables.get(op.get("TableName"))
            if table is None:
                continue
            key = op.get("Key") or op.get("Item") or {}
            if table.hash_key_attr not in key:
                continue
            hash_key = DynamoType(key[table.hash_key_attr])
            range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr in key else None
            saved.append((table, hash_key, range_key, copy.deepcopy(table.get_item(hash_key, range_key))))
        try:
            return transact(backend, transact_items)
        except Exception:
            for table, hash_key, range_key, item in reversed(saved):
                if item is None:
                    table.delete_item(hash_key, range_key)
                elif range_key is None:
                    table.items[hash_key] = item
                else:
                    table.items[hash_key][range_key] = item
            raise
    return call


def serialize_s3() -> None:
    """Wrap every public operation of moto's S3 backend in its own lock (idempotent). A PutObject sets
    the new object's content type and metadata after the backend's put: the whole request holds the lock,
    so no one sees the object without them."""
    from moto.s3.models import S3Backend
    from moto.s3.responses import S3Response

    if getattr(S3Backend, "_serialized", False):
        return
    for name, member in list(vars(S3Backend).items()):
        if callable(member) and not name.startswith("_"):
            setattr(S3Backend, name, _serialized(member, _s3_lock))
    S3Response.put_object = _serialized(S3Response.put_object, _s3_lock)  # type: ignore[method-assign]
    S3Backend._serialized = True  # type: ignore[attr-defined]


def serialize_sqs() -> None:
    """Wrap every public operation of moto's SQS backend in its own lock; a receive lets go of it while it
    waits for messages (a long poll), so sends go on meanwhile (idempotent)."""
    from moto.sqs.models import Queue, SQSBackend

    if getattr(SQSBackend, "_serialized", False):
        return
    for name, member in list(vars(SQSBackend).items()):
        if callable(member) and not name.startswith("_"):
            setattr(SQSBackend, name, _serialized(member, _sqs_lock))
    wait = Queue.wait_for_messages

    def wait_unlocked(queue: Queue, timeout: int) -> None:
        _sqs_lock.release()  # held once: by the receive that waits
        try:
            wait(queue, timeout)
        finally:
            _sqs_lock.acquire()

    Queue.wait_for_messages = wait_unlocked  # type: ignore[method-assign]
    SQSBackend._serialized = True  # type: ignore[attr-defined]


_partition = threading.local()


def bounded_query_costs() -> None:
    """A Query of the table (not of an index) lists its partition's items only (idempotent)."""
    from moto.dynamodb.models.table import Table

    if getattr(Table, "_partition_queries", False):
        return
    every_item, query = Table.all_items, Table.query

    def all_items(table: Table) -> list[Any]:
        hash_key = getattr(_partition, "hash_key", None)
        if hash_key is None or not table.range_key_attr:
            return every_item(table)
        return list(table.items.get(hash_key, {}).values())

    def partition_query(table: Table, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        on_index = (args[6] if len(args) > 6 else kwargs.get("index_name")) is not None
        _partition.hash_key = None if on_index else hash_key
        try:
            return query(table, hash_key, *args, **kwargs)
        finally:
            _partition.hash_key = None

    Table.all_items, Table.query = all_items, partition_query  # type: ignore[method-assign]
    Table._partition_queries = True  # type: ignore[attr-defined]


def bounded_queue_costs() -> None:
    """A received message's retention checked from its queue's setting alone (idempotent)."""
    from moto.core.utils import unix_time
    from moto.sqs.models import SQSBackend

    def valid(backend: Any, queue_name: str, message: Any) -> bool:
        retention = int(backend.get_queue(queue_name).message_retention_period)
        return retention + message.sent_timestamp / 1000 > unix_time()

    SQSBackend.is_message_valid_based_on_retention_period = valid  # type: ignore[method-assign]


def forget_model_instances() -> None:
    """Let moto's model objects be freed once nothing uses them (idempotent)."""
    from moto.core.common_models import BaseModel

    def untracked(cls: type, *args: Any, **kwargs: Any) -> Any:
        return object.__new__(cls)

    BaseModel.__new__ = untracked  # type: ignore[method-assign, assignment]


_generation = 0
_tracked = False
# The emulator's operations that change what a snapshot holds, per backend class.
_WRITES = {
    ("moto.dynamodb.models", "DynamoDBBackend"): ("put_item", "update_item", "delete_item", "transact_write_items",
                                                   "create_table", "delete_table"),
    ("moto.s3.models", "S3Backend"): ("put_object", "delete_object", "delete_objects", "copy_object",
                                      "complete_multipart_upload"),
    ("moto.ssm.models", "SimpleSystemManagerBackend"): ("put_parameter", "delete_parameter", "delete_parameters"),
    ("moto.scheduler.models", "EventBridgeSchedulerBackend"): ("create_schedule", "update_schedule",
                                                                "delete_schedule"),
}


def generation() -> int:
    """How many writes the emulator has taken so far (0 unless track_changes() was called)."""
    return _generation


def _counted(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        global _generation
        result = method(*args, **kwargs)
        _generation += 1  # a lost increment under a race only delays a snapshot to the next write
        return result
    return call


def track_changes() -> None:
    global _tracked
    if _tracked:
        return
    for (module_name, class_name), methods in _WRITES.items():
        backend = getattr(importlib.import_module(module_name), class_name)
        for name in methods:
            setattr(backend, name, _counted(getattr(backend, name)))
    _tracked = True
