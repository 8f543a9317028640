"""An in-memory metadata table for fast service tests: the contract of chalicelib.store.metadata.Table,
checked against DynamoDB's by tests/unit/test_table_contract.py. Items go through DynamoDB's own type
serializer on the way in and out, so numbers come back as Decimal and floats are refused, as there."""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator
from decimal import Decimal

from chalicelib.store.dynamo import from_ddb, to_ddb
from chalicelib.store.table import Condition, ConditionFailed, Delete, Item, Put, Update, Write, write_key

INDEX_KEYS = {None: ("PK", "SK"), "GSI1": ("GSI1PK", "GSI1SK")}


def _stored(item: Item) -> Item:
    return from_ddb(to_ddb(item))


def _holds(item: Item | None, condition: Condition) -> bool:
    if condition.expected:
        return item is not None and all(
            name not in item if wanted is None
            else name in item and (item[name] in wanted if isinstance(wanted, tuple) else item[name] == wanted)
            for name, wanted in condition.expected.items())
    if condition.absent:
        return item is None
    if condition.exists:
        return item is not None
    return True


def _updated(item: Item | None, update: Update) -> Item:
    result = copy.deepcopy(item) if item is not None else {"PK": update.pk, "SK": update.sk}
    for name, value in update.defaults.items():
        result.setdefault(name, value)
    result |= {name: value for name, value in update.fields.items() if value is not None}
    for name in [*update.remove, *(name for name, value in update.fields.items() if value is None)]:
        *parents, last = name.split(".")
        holder = result
        for parent in parents:
            holder = holder.get(parent, {})
        holder.pop(last, None)
    for name, value in update.add.items():
        if isinstance(value, set):
            result[name] = result.get(name, set()) | value
        else:
            result[name] = result.get(name, Decimal(0)) + Decimal(value)
    return _stored(result)


class MemoryTable:
    def __init__(self) -> None:
        self._items: dict[tuple[str, str], Item] = {}
        self._lock = threading.Lock()

    def get(self, pk: str, sk: str, consistent: bool) -> Item | None:
        item = self._items.get((pk, sk))
        return copy.deepcopy(item) if item is not None else None

    def batch_get(self, keys: list[tuple[str, str]], attributes: list[str] | None, consistent: bool) -> list[Item]:
        return [self._projected(self._items[k], attributes, ("PK", "SK")) for k in keys if k in self._items]

    def query(self, pk: str, prefix: str, after: str | None, limit: int | None,
              attributes: list[str] | None) -> tuple[list[Item], str | None]:
        found = [i for i in self._partition(pk, prefix, None) if after is None or i["SK"] > after]
        if limit is not None and len(found) > limit:
            found = found[:limit]
            return [self._projected(i, attributes, ("PK", "SK")) for i in found], found[-1]["SK"]
        return [self._projected(i, attributes, ("PK", "SK")) for i in found], None

    def iterate(self, pk: str, prefix: str, descending: bool, page_size: int, attributes: list[str] | None,
                index: str | None) -> Iterator[Item]:
        found = self._partition(pk, prefix, index)
        for item in reversed(found) if descending else found:
            yield self._projected(item, attributes, INDEX_KEYS[index] if index else ("PK", "SK"))

    def _partition(self, pk: str, prefix: str, index: str | None) -> list[Item]:
        hash_key, range_key = INDEX_KEYS[index]
        with self._lock:
            items = [i for i in self._items.values()
                     if i.get(hash_key) == pk and isinstance(i.get(range_key), str) and i[range_key].startswith(prefix)]
        return sorted(items, key=lambda i: (i[range_key], i["PK"], i["SK"]))

    @staticmethod
    def _projected(item: Item, attributes: list[str] | None, keys: tuple[str, ...]) -> Item:
        if attributes is None:
            return copy.deepcopy(item)
        return {name: copy.deepcopy(item[name]) for name in [*keys, *attributes] if name in item}

    def write(self, write: Write) -> Item | None:
        with self._lock:
            written = self._apply(write)
        return copy.deepcopy(written) if isinstance(write, Update) else None

    def transact(self, writes: list[Write]) -> None:
        with self._lock:
            for write in writes:
                if not _holds(self._items.get(write_key(write)), write.condition):
                    raise ConditionFailed(f"transaction cancelled: {write_key(write)} is not as expected")
            for write in writes:
                self._apply(write)

    def batch_write(self, writes: list[Put | Delete]) -> None:
        with self._lock:
            for write in writes:
                self._apply(write)

    def _apply(self, write: Write) -> Item | None:
        """Apply one write under the lock."""
        key = write_key(write)
        current = self._items.get(key)
        if not _holds(current, write.condition):
            raise ConditionFailed(f"{key} is not as expected")
        if isinstance(write, Delete):
            self._items.pop(key, None)
            return None
        written = _stored(write.item) if isinstance(write, Put) else _updated(current, write)
        self._items[key] = written
        return written

