"""The system configuration (Harbor's /configurations): one item, CONFIG/SYSTEM, holding the values
set through the API; an item never set takes its default (chalicelib/configurations.py)."""

from __future__ import annotations

from typing import Any

from chalicelib.store import metadata

_KEY = ("CONFIG", "SYSTEM")


def values() -> dict[str, Any]:
    item = metadata.get(*_KEY, consistent=True) or {}
    return {name: value for name, value in item.items() if name not in ("PK", "SK")}


def update(changes: dict[str, Any]) -> None:
    metadata.set_fields(*_KEY, changes, must_exist=False)
