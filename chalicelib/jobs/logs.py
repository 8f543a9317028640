"""Task logs (Harbor's job logs): one text object per task in S3, appended a step at a time. A task's
steps run one after another, so read, append and write back is safe; a step that fails before it
appends loses only its own lines."""

from __future__ import annotations

from chalicelib import clock
from chalicelib.store import objects


def line(text: str) -> str:
    """One log line, stamped with the time."""
    return f"{clock.iso()} {text}\n"


def append(key: str, lines: list[str]) -> None:
    """Add a step's lines to the task's log: one read and one write."""
    if lines:
        objects.put(key, ((objects.get_text(key) or "") + "".join(lines)).encode())


def read(key: str) -> str:
    return objects.get_text(key) or ""


def write_part(prefix: str, part: str, lines: list[str]) -> None:
    """One part of a job whose steps run side by side (a state machine's Map): each writes its own
    object under the job's prefix, and the log is the parts in key order."""
    if lines:
        objects.put(f"{prefix}{part}.log", "".join(lines).encode())


def read_parts(prefix: str) -> str | None:
    """The job's log: its parts in key order; None when it has none."""
    parts = objects.list_prefix(prefix)
    return "".join(objects.get_text(key) or "" for key, _ in parts) if parts else None


def forget_parts(prefix: str) -> None:
    objects.delete_prefix(prefix)
