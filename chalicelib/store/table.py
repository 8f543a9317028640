"""The metadata table's interface: the writes the stores make, as values, and what a table must do with
them. store/metadata.py runs them on DynamoDB (store/dynamo.py); tests plug in an in-memory table
that passes the same contract tests (tests/unit/test_table_contract.py)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

Item = dict[str, Any]
TRANSACTION_LIMIT = 100  # DynamoDB's limit of operations per transaction


class ConditionFailed(Exception):
    """A conditional write or transaction lost: the item was not in the expected state."""


@dataclass(frozen=True)
class Condition:
    """What an item must be for a write to apply: absent, present, or holding the `expected` values
    (a tuple: one of its values; None: lacking the attribute). An attribute the item lacks never holds
    a value, and an absent item holds no expectation."""

    absent: bool = False
    exists: bool = False
    expected: Item | None = None


@dataclass(frozen=True)
class Put:
    item: Item
    condition: Condition = Condition()


@dataclass(frozen=True)
class Delete:
    pk: str
    sk: str
    condition: Condition = Condition()


@dataclass(frozen=True)
class Update:
    """Set `fields` (a None value removes the attribute), set `defaults` only where the item has no such
    attribute, remove `remove` (a dotted name removes one key of a map attribute), add `add`'s numbers
    (from 0 where absent). An item that does not exist is created, unless the condition says otherwise."""

    pk: str
    sk: str
    fields: Item = field(default_factory=dict)
    remove: tuple[str, ...] = ()
    add: Item = field(default_factory=dict)
    defaults: Item = field(default_factory=dict)
    condition: Condition = Condition()


Write = Put | Delete | Update


class Table(Protocol):
    def get(self, pk: str, sk: str, consistent: bool) -> Item | None: ...

    def batch_get(self, keys: list[tuple[str, str]], attributes: list[str] | None, consistent: bool) -> list[Item]:
        """Missing items are simply absent; `attributes` (besides the keys) limits what is read."""

    def query(self, pk: str, prefix: str, after: str | None, limit: int | None,
              attributes: list[str] | None) -> tuple[list[Item], str | None]: ...

    def iterate(self, pk: str, prefix: str, descending: bool, page_size: int, attributes: list[str] | None,
                index: str | None) -> Iterator[Item]: ...

    def write(self, write: Write) -> Item | None:
        """Apply one write (ConditionFailed when its condition does not hold); an update returns the
        item as written."""

    def transact(self, writes: list[Write]) -> None:
        """All or nothing: ConditionFailed, and nothing written, when any condition does not hold."""

    def batch_write(self, writes: list[Put | Delete]) -> None:
        """Unconditional puts and deletes, not atomic."""


def write_key(write: Write) -> tuple[str, str]:
    if isinstance(write, Put):
        return write.item["PK"], write.item["SK"]
    return write.pk, write.sk
