"""What the embedded AWS emulator (moto) needs to behave as AWS does under concurrent requests.

moto's DynamoDB applies a transaction's writes one by one, checks conditions and writes without a
lock, and rolls a failed transaction back by putting back a copy of the whole table taken before it
began: two requests at once can both pass a condition meant to let one through, and a rollback
silently undoes writes that other requests made meanwhile. DynamoDB itself applies each request
atomically. `serialize_dynamodb()` gives the emulator that guarantee by running one DynamoDB request
at a time (the local stack and the in-process tests both call it); the registry's code is unchanged.

`forget_model_instances()` stops moto from keeping every model object it ever made: its BaseModel
appends each new instance to a class-level list, emptied only by a reset. DynamoDB deep-copies the whole
table for every transaction (its rollback copy) and a pushed blob is an S3 key object, so the list held
every copy of every item and every deleted blob: gigabytes after a few thousand pushes and deletes.

`track_changes()` counts the emulator's writes (`generation()`), so the launcher's snapshots of
its state (infra/snapshot.py) are taken only when something changed.
"""

from __future__ import annotations

import functools
import importlib
import threading
from collections.abc import Callable
from typing import Any

_lock = threading.RLock()
_applied = False


def _serialized(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        with _lock:
            return method(*args, **kwargs)
    return call


def serialize_dynamodb() -> None:
    """Wrap every public operation of moto's DynamoDB backend in one lock (idempotent)."""
    global _applied
    if _applied:
        return
    from moto.dynamodb.models import DynamoDBBackend

    for name, member in list(vars(DynamoDBBackend).items()):
        if callable(member) and not name.startswith("_"):
            setattr(DynamoDBBackend, name, _serialized(member))
    _applied = True


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
