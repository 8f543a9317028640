"""The processes a test started, as `ps` and /proc show them: a launcher's children, whether one still
runs, a whole process tree."""

from __future__ import annotations

import subprocess
from pathlib import Path


def children(parent: int) -> dict[int, str]:
    """The direct children of `parent`: pid -> its command line."""
    listed = subprocess.run(["ps", "-o", "pid=,args=", "--ppid", str(parent)], capture_output=True, text=True)
    return {int(line.split()[0]): line.split(None, 1)[1] for line in listed.stdout.splitlines() if line.strip()}


def children_running(parent: int, command_part: str) -> set[int]:
    """The children of `parent` whose command line holds `command_part`."""
    return {pid for pid, command in children(parent).items() if command_part in command}


def running(pid: int) -> bool:
    """Alive and not a zombie (an orphan's exit is reaped by whoever adopted it, maybe never)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def descendants(pid: int) -> list[int]:
    """`pid` and every process below it."""
    by_parent: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (FileNotFoundError, ProcessLookupError):
                continue
            by_parent.setdefault(parent, []).append(int(entry.name))
    found, frontier = [], [pid]
    while frontier:
        current = frontier.pop()
        found.append(current)
        frontier += by_parent.get(current, [])
    return found
