"""One API worker process of the local stack (infra/launcher.py starts one per core).

Every worker serves the Chalice app through its own local API Gateway (infra/gateway.py) on the
launcher's listening socket, which it inherits: the kernel hands each new connection to one of the
workers accepting on it, so concurrent requests use every core instead of queueing on one interpreter
lock. Like Lambda instances they share nothing but AWS (the emulator, over HTTP) and the cache; their
environment is the launcher's. A worker stops on SIGTERM or SIGINT, letting requests in flight finish;
the kernel sends it SIGTERM when its launcher dies (infra/children.py), and it checks its parent each
second besides.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class ApiWorkers:
    """The launcher's side: starts `count` workers on `listener`, starts one again if it dies, stops them."""

    def __init__(self, listener: socket.socket, count: int, options: list[str]) -> None:
        self.listener, self.count, self.options = listener, count, options
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self) -> None:
        """Returns once every worker serves."""
        started = [self._spawn() for _ in range(self.count)]
        self.processes = [process for process, _ in started]
        for process, ready in started:
            if os.read(ready, 1) != b"1":
                raise RuntimeError(f"API worker {process.pid} did not start (exit code {process.wait()})")
            os.close(ready)

    def _spawn(self) -> tuple[subprocess.Popen[bytes], int]:
        ready_read, ready_write = os.pipe()
        process = subprocess.Popen(
            [sys.executable, "-m", "infra.api_worker", "--listener-fd", str(self.listener.fileno()),
             "--ready-fd", str(ready_write), "--launcher-pid", str(os.getpid()), *self.options],
            cwd=ROOT, pass_fds=(self.listener.fileno(), ready_write))
        os.close(ready_write)
        return process, ready_read

    def replace_exited(self) -> None:
        """Start again a worker that died (as Lambda replaces an instance)."""
        for index, process in enumerate(self.processes):
            if process.poll() is not None:
                print(f"API worker {process.pid} exited ({process.returncode}): starting another", flush=True)
                replacement, ready = self._spawn()
                self.processes[index] = replacement
                os.read(ready, 1)
                os.close(ready)

    def stop(self, grace_seconds: float) -> None:
        """Let each finish what is in flight (`grace_seconds`), then kill what is left."""
        for process in self.processes:
            process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(grace_seconds + 5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--listener-fd", type=int, required=True, help="the inherited listening socket")
    parser.add_argument("--ready-fd", type=int, required=True, help="one byte is written there once serving")
    parser.add_argument("--launcher-pid", type=int, required=True, help="the worker stops when it is gone")
    parser.add_argument("--instances", type=int, required=True, help="concurrent 'Lambda instances'")
    parser.add_argument("--enforce-aws-limits", action="store_true")
    parser.add_argument("--tls-cert", type=Path)
    parser.add_argument("--tls-key", type=Path)
    parser.add_argument("--grace-seconds", type=float, required=True)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from infra import children, gateway, tls

    signals = children.StopSignals()
    children.signal_when_orphaned(args.launcher_pid, signal.SIGTERM)  # it drains, then exits
    listener = socket.socket(fileno=args.listener_fd)
    server = gateway.serve_on(listener,
                              gateway.Gateway(instances=args.instances, enforce_limits=args.enforce_aws_limits),
                              tls.server_context(args.tls_cert, args.tls_key) if args.tls_cert else None)
    try:  # the listener queues connections until the server takes them
        os.write(args.ready_fd, b"1")
    except BrokenPipeError:  # the launcher is gone already
        return 0
    os.close(args.ready_fd)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    while not signals.wait(1) and os.getppid() == args.launcher_pid:  # and a look at the parent besides
        pass
    server.shutdown()  # accepts no more; what is in flight gets the grace time
    server.drain(args.grace_seconds)
    os._exit(0)  # daemon threads of unanswered requests are dropped, as the launcher's were


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
