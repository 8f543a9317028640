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
