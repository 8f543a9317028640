"""Pull bookkeeping (pull counts, pull times, pull audit records): queued while a pull is answered,
written in batches by functions/pulls.py (store/pulls.py says how it stays exact)."""

from __future__ import annotations

from chalicelib import events
from chalicelib.observability import logger
from chalicelib.store import pulls


def queue(pulled: events.ArtifactPulled) -> None:
    """The subscriber of ArtifactPulled: one message, no write to the table."""
    pulls.send(pulls.new_pull(pulled.project.project_id, pulled.project.name, pulled.repository,
                              pulled.reference, pulled.digest, pulled.username))


def record(messages: dict[str, str]) -> list[str]:
    """Write a batch of queued pulls (message id -> body); returns the ids of the messages whose
    repository could not be written, to be delivered again."""
    parsed = {message_id: pulls.parse(body) for message_id, body in messages.items()}
    failed: list[str] = []
    for repository, group in pulls.by_repository(parsed.values()).items():
        try:
            pulls.record(repository, group)
        except Exception:
            logger.exception("pulls not recorded", extra={"repository": repository, "pulls": len(group)})
            ids = {p.record_id for p in group}
            failed += [message_id for message_id, pull in parsed.items() if pull.record_id in ids]
    return failed
