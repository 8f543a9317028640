"""The system configuration (Harbor's /configurations): one item, CONFIG/SYSTEM, holding the values
set through the API; an item never set takes its default (chalicelib/configurations.py). Read on every
write request (read-only mode) and Basic login (the robot prefix), so it is read through the cache."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.store import cache, metadata

_KEY = ("CONFIG", "SYSTEM")
_CACHED = cache.Key("config", "config")


def config_cache_key() -> cache.Key:
    return _CACHED


def config_table_key() -> tuple[str, str]:
    """The item `values` reads when the cache does not answer (metadata.prefetched)."""
    return _KEY


def _read(consistent: bool) -> dict[str, Any]:
    item = metadata.get(*_KEY, consistent=consistent) or {}
    return {name: value for name, value in item.items() if name not in ("PK", "SK")}


def values() -> dict[str, Any]:
    """What was set (numbers come back as int)."""
    return cache.read(_CACHED, _read, lambda found: json.dumps(found, default=int), json.loads) or {}


def update(changes: dict[str, Any]) -> None:
    metadata.set_fields(*_KEY, changes, must_exist=False)
    cache.invalidate([_CACHED.scope])
