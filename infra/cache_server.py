"""A redis-server of our own on a private port (never the machine's 6379, which may run another):
the local stack's cache (infra/launcher.py), which starts it again on the same port when it dies, and
the tests', which also stop it, freeze it (SIGSTOP: connections hang, data kept, as in a network
partition) and restart it. Nothing is saved to disk; it dies with the process that started it."""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from pathlib import Path

import redis

from infra.children import die_with_parent
from infra.ports import free_port


class RedisServer:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, decode_responses=True)

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is missing: infra/ensure-tools.sh installs it")
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.workdir), "--maxmemory-policy", "volatile-lru"],
            # Its own session: a Ctrl-C meant for the launcher must leave it to the launcher, which
            # still writes the pulls it buffered before stopping it.
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
            preexec_fn=die_with_parent())
        deadline = time.monotonic() + 30
        while True:  # until it answers
            try:
                if self.client().ping():
                    return
            except redis.ConnectionError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.05)

    def exited(self) -> bool:
        """True when it was started and has died since (not stopped by `stop`)."""
        return self.process is not None and self.process.poll() is not None

    def stop(self) -> None:
        """Kill it: everything it held is gone."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def freeze(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGCONT)
