"""Tag retention policies (Harbor's /retentions): each at PK=RETENTION#<id>, SK=RETENTION, Harbor's JSON.
Only the default policy of proxy-cache projects is recorded today; no retention job runs them yet."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.store import metadata


def create(policy: dict[str, Any]) -> int:
    """Record a policy; its id."""
    retention_id = metadata.next_id("RETENTION")
    metadata.put({"PK": f"RETENTION#{retention_id}", "SK": "RETENTION", "policy": json.dumps(policy)})
    return retention_id


def get(retention_id: int) -> dict[str, Any] | None:
    item = metadata.get(f"RETENTION#{retention_id}", "RETENTION")
    return {**json.loads(item["policy"]), "id": retention_id} if item else None


def delete(retention_id: int) -> None:
    metadata.delete(f"RETENTION#{retention_id}", "RETENTION")
