"""Items kept by name in one partition (so a list is one Query, in name order) and found by id
through a pointer item PK=<KIND>ID#<id>, SK=<KIND> (Harbor's API addresses them by integer id).
Users, robots, projects and labels are kept this way; this module is the one place that writes both."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from chalicelib.store import metadata


@dataclass(frozen=True)
class Named:
    kind: str  # USER, ROBOT, PROJECT, LABEL
    name_attribute: str = "name"  # what the pointer calls the name (users: "username")

    def _pointer(self, item_id: int) -> tuple[str, str]:
        return f"{self.kind}ID#{item_id}", self.kind

    def get(self, partition: str, name: str, consistent: bool = False) -> metadata.Item | None:
        return metadata.get(partition, name, consistent)

    def locate(self, item_id: int) -> tuple[str, str] | None:
        """(partition, name) of the item with this id, None when there is none."""
        pointer = metadata.get(*self._pointer(item_id))
        if pointer is None:
            return None
        return pointer.get("partition", ""), pointer[self.name_attribute]

    def by_id(self, item_id: int, partition: str) -> metadata.Item | None:
        """The item of that id kept in `partition` (two reads: the pointer, the item)."""
        located = self.locate(item_id)
        return self.get(partition, located[1]) if located else None

    def iterate(self, partition: str, *, descending: bool = False) -> Iterator[metadata.Item]:
        return metadata.iterate(partition, descending=descending)

    def create_ops(self, item_id: int, partition: str, name: str, attributes: dict[str, Any],
                   *, pointer_partition: bool = False) -> list[metadata.Write]:
        """Operations that write the item and its pointer; the transaction fails if either exists."""
        pointer = {"PK": self._pointer(item_id)[0], "SK": self.kind, self.name_attribute: name}
        if pointer_partition:
            pointer["partition"] = partition
        return [metadata.put_op({"PK": partition, "SK": name, **attributes}, if_absent=True),
                metadata.put_op(pointer, if_absent=True)]

    def create(self, item_id: int, partition: str, name: str, attributes: dict[str, Any]) -> None:
        """ConditionFailed when the name (or id) is taken."""
        metadata.transact(self.create_ops(item_id, partition, name, attributes))

    def rename_ops(self, item_id: int, partition: str, old: str, new: str,
                   attributes: dict[str, Any]) -> list[metadata.Write]:
        """Operations that write the item under `new` (failing if taken) and move the pointer to it."""
        operations = [metadata.put_op({"PK": partition, "SK": new, **attributes}, if_absent=new != old),
                      metadata.put_op({"PK": self._pointer(item_id)[0], "SK": self.kind, "partition": partition,
                                       self.name_attribute: new})]
        if new != old:
            operations.append(metadata.delete_op(partition, old))
        return operations

    def delete_ops(self, item_id: int, partition: str, name: str) -> list[metadata.Write]:
        return [metadata.delete_op(partition, name), metadata.delete_op(*self._pointer(item_id))]

    def delete(self, item_id: int, partition: str, name: str) -> None:
        metadata.transact(self.delete_ops(item_id, partition, name))
