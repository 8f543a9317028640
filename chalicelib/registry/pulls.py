"""Pull bookkeeping (pull counts, pull times, pull audit records): queued while a pull is answered,
written in batches by functions/pulls.py (store/pulls.py says how it stays exact)."""

from __future__ import annotations

import time

from chalicelib import configurations, events
from chalicelib.observability import logger
from chalicelib.store import audit, forwarding, pulls


def buffer(pulled: events.ArtifactPulled) -> None:
    """The subscriber of ArtifactPulled: queued, no write to the table."""
    pulls.send(pulls.new_pull(pulled.project.project_id, pulled.project.name, pulled.repository,
                              pulled.reference, pulled.digest, pulled.username))


def record(messages: dict[str, str]) -> list[str]:
    """Write a batch of queued pulls (message id -> body); returns the ids of the messages whose
    repository could not be written, to be delivered again. Their audit records are forwarded first when
    an endpoint is set (a pull written again is forwarded again: at least once), and kept unless
    pull_audit_log_disable or skip_audit_log_database."""
    started = time.monotonic()
    parsed = {message_id: pulls.parse(body) for message_id, body in messages.items()}
    current = configurations.current()
    disabled = bool(current["pull_audit_log_disable"])
    forward = bool(current["audit_log_forward_endpoint"]) and not disabled
    keep_records = not (disabled or current["skip_audit_log_database"])
    failed: list[str] = []
    for repository, group in pulls.by_repository(parsed.values()).items():
        try:
            if forward:
                forwarding.send([audit.forwarded(p.audit_item) for p in group])
            pulls.record(repository, group, keep_records=keep_records)
        except Exception:
            logger.exception("pulls not recorded", extra={"repository": repository, "pulls": len(group)})
            keys = {p.key for p in group}
            failed += [message_id for message_id, pull in parsed.items() if pull.key in keys]
    logger.info("pulls written", extra={"pulls": len(parsed) - len(failed), "left": len(failed),
                                        "seconds": round(time.monotonic() - started, 3)})
    return failed


def move_stale_tallies() -> int:
    """What the recorder's schedule runs: the tallies of runs that stopped between their two steps are
    moved (store/pulls.py); returns how many."""
    moved = pulls.transfer_stale_tallies()
    if moved:
        logger.info("stale pull tallies moved", extra={"stale_tallies": moved})
    return moved
