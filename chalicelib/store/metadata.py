"""The metadata table: one table keyed by PK/SK with one secondary index, GSI1 (key patterns in
docs/data-model.md). Entity stores read and write it through the functions below, which run on a
`Table`: DynamoDB (store/dynamo.py) in every deployment; the fast service tests plug in an in-memory
table that passes the same contract tests."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from chalicelib.store.dynamo import DynamoTable
from chalicelib.store.table import (
    TRANSACTION_LIMIT,
    Condition,
    ConditionFailed,
    Delete,
    Item,
    Put,
    Table,
    Update,
    Write,
    write_key,
)

__all__ = ["ConditionFailed", "Item", "Write"]

_table: Table = DynamoTable()


def use(table: Table) -> Table:
    """Run the stores on `table`; returns the table used until now (to put it back)."""
    global _table
    previous, _table = _table, table
    return previous


def check() -> None:
    """Raise unless the table answers (a read of a key that is never written)."""
    get("HEALTH", "PROBE")


@dataclass
class _Prefetched:
    items: dict[tuple[str, str], Item | None]
    consistent: bool


_prefetched: ContextVar[_Prefetched | None] = ContextVar("metadata_prefetched", default=None)


@contextmanager
def prefetched(keys: Iterable[tuple[str, str]], *, consistent: bool) -> Iterator[None]:
    """Read these items in one BatchGetItem for the `get`s that follow, each answered once, until the
    block ends (a pull names in its path the items it will read, which the cache did not hold)."""
    keys = list(dict.fromkeys(keys))
    items: dict[tuple[str, str], Item | None] = {}
    if len(keys) > 1:  # a single item costs the same read by the get that needs it
        found = {(i["PK"], i["SK"]): i for i in batch_get(keys, consistent=consistent)}
        items = {key: found.get(key) for key in keys}
    token = _prefetched.set(_Prefetched(items, consistent))
    try:
        yield
    finally:
        _prefetched.reset(token)


def get(pk: str, sk: str, consistent: bool = False) -> Item | None:
    memo = _prefetched.get()
    if memo is not None and (pk, sk) in memo.items and (memo.consistent or not consistent):
        return memo.items.pop((pk, sk))
    return _table.get(pk, sk, consistent)


def batch_get(keys: Iterable[tuple[str, str]], attributes: Iterable[str] | None = None, *,
              consistent: bool = False) -> list[Item]:
    """Read many items; missing items are simply absent. `attributes` limits what is read (besides the
    keys)."""
    return _table.batch_get(list(dict.fromkeys(keys)), _names(attributes), consistent)


def query(pk: str, prefix: str = "", *, after: str | None = None, limit: int | None = None,
          attributes: Iterable[str] | None = None) -> tuple[list[Item], str | None]:
    """Items of one partition whose SK starts with prefix, in SK order, strictly after `after`.

    Returns the items and the SK to continue after when more remain (limit reached).
    """
    return _table.query(pk, prefix, after, limit, _names(attributes))


def iterate(pk: str, prefix: str = "", *, descending: bool = False, page_size: int = 500,
            attributes: Iterable[str] | None = None, index: str | None = None) -> Iterator[Item]:
    """Stream one partition's items (of the table, or of `index` "GSI1" by GSI1PK/GSI1SK) in key order,
    page by page, never holding more than a page."""
    return _table.iterate(pk, prefix, descending, page_size, _names(attributes), index)


def _names(attributes: Iterable[str] | None) -> list[str] | None:
    return None if attributes is None else list(attributes)


def put(item: Item, *, if_absent: bool = False) -> None:
    _table.write(put_op(item, if_absent=if_absent))


def delete(pk: str, sk: str, *, must_exist: bool = False) -> None:
    _table.write(delete_op(pk, sk, must_exist=must_exist))


def set_fields(pk: str, sk: str, fields: Item, *, remove: Iterable[str] = (), add: Item | None = None,
               defaults: Item | None = None, must_exist: bool = True, expected: Item | None = None) -> Item:
    """Set (and default, remove, add to) some attributes of one item; returns the item as written.
    ConditionFailed when it must exist and does not, or does not hold the `expected` values."""
    update = Update(pk, sk, fields, tuple(remove), add or {}, defaults or {},
                    Condition(exists=must_exist, expected=expected))
    written = _table.write(update)
    assert written is not None
    return written


def next_id(counter: str) -> int:
    """Allocate the next integer id of a sequence (Harbor's API uses integer ids)."""
    item = set_fields("COUNTER", counter, {}, add={"next_value": 1}, must_exist=False)
    return int(item["next_value"])


def batch_delete(item_keys: Iterable[tuple[str, str]]) -> None:
    """Delete many items. Not atomic."""
    _table.batch_write([Delete(pk, sk) for pk, sk in item_keys])


def batch_put(items: Iterable[Item]) -> None:
    """Write many items. Not atomic (bulk loads)."""
    _table.batch_write([Put(item) for item in items])


# Transaction operations: build with put_op/delete_op/set_fields_op, run with transact().
def put_op(item: Item, *, if_absent: bool = False, must_exist: bool = False, expected: Item | None = None) -> Put:
    """A put: only if absent, only if present, or only while the item holds the `expected` values."""
    return Put(item, Condition(absent=if_absent, exists=must_exist, expected=expected))


def delete_op(pk: str, sk: str, *, must_exist: bool = False, expected: Item | None = None) -> Delete:
    return Delete(pk, sk, Condition(exists=must_exist, expected=expected))


def set_fields_op(pk: str, sk: str, fields: Item, *, remove: Iterable[str] = (), add: Item | None = None,
                  defaults: Item | None = None, must_exist: bool = False, expected: Item | None = None) -> Update:
    """set_fields as an operation of a transaction."""
    return Update(pk, sk, fields, tuple(remove), add or {}, defaults or {},
                  Condition(exists=must_exist, expected=expected))


def transact(writes: list[Write]) -> None:
    """All or nothing. DynamoDB's rules hold on every table: at most 100 writes, one per item."""
    if len(writes) > TRANSACTION_LIMIT:
        raise ValueError(f"a transaction takes at most {TRANSACTION_LIMIT} writes, not {len(writes)}")
    written = [write_key(w) for w in writes]
    if len(set(written)) != len(written):
        raise ValueError("a transaction writes each item at most once")
    _table.transact(writes)
