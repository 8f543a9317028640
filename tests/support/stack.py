"""The local stack, started exactly as `make run` starts it (infra/launcher.py), on free ports."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import requests

from tests.support.net import free_port

ROOT = Path(__file__).resolve().parents[2]
ADMIN = ("admin", "Harbor12345")
START_SECONDS = 600  # a bound for a broken start, not a timing


@dataclass(frozen=True)
class Stack:
    host: str  # host:port, as image references name it
    log: Path

    scheme: str = "http"
    process: subprocess.Popen[bytes] | None = None
    emulator: str = ""  # the embedded AWS emulator's endpoint URL (what an operator's AWS CLI would call)

    def aws(self, service: str) -> Any:
        """A boto3 client of the stack's emulated AWS."""
        return boto3.client(service, endpoint_url=self.emulator, region_name=os.environ.get("AWS_DEFAULT_REGION",
                                                                                            "us-east-1"))

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}"

    def session(self, auth: tuple[str, str] | None = ADMIN) -> requests.Session:
        session = requests.Session()
        session.auth = auth
        return session


@contextmanager
def local_stack(tmp: Path, *extra: str, env_extra: dict[str, str] | None = None) -> Iterator[Stack]:
    port, emulator = free_port(), free_port()
    log = tmp / "launcher.log"
    tmp.mkdir(parents=True, exist_ok=True)
    log.touch()
    env = {k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL"}
    # Throwaway state: each stack keeps its data in its own temporary directory unless told otherwise.
    env.update({"POWERTOOLS_LOG_LEVEL": "INFO", "DATA_DIR": str(tmp / "data"), **(env_extra or {})})
    started = log.stat().st_size
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "infra.launcher", "--port", str(port), "--emulator-port", str(emulator), *extra],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    # A start takes seconds; on a machine other work keeps busy, minutes. Only an exit fails it at once.
    deadline = time.monotonic() + START_SECONDS
    while b"Registry ready" not in log.read_bytes()[started:]:
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"launcher did not start:\n{log.read_text()}")
        time.sleep(0.2)
    try:
        tls = "--tls" in extra or env.get("TLS") == "1"
        yield Stack(f"127.0.0.1:{port}", log, "https" if tls else "http", process, f"http://127.0.0.1:{emulator}")
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
