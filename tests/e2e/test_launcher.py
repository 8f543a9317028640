"""The launcher itself: an external AWS endpoint (as with LocalStack), request logs, worker processes,
clean stop."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import boto3
import requests

from tests.e2e.conftest import ADMIN, Stack, push, wait_for_report
from tests.support.images import OCI_MANIFEST, make_image, sha256
from tests.support.load import load
from tests.support.net import free_port, wait_for_http
from tests.support.processes import children, children_running, running
from tests.support.stack import local_stack
from tests.support.vulnerable import ALPINE_318_FINDINGS, alpine_318, findings
from tests.support.waiting import wait_until


def test_uses_an_external_endpoint_and_starts_no_emulator(tmp_path: Path) -> None:
    port = free_port()
    emulator = subprocess.Popen([sys.executable, "-m", "moto.server", "-p", str(port)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(endpoint)
        with local_stack(tmp_path, env_extra={"AWS_ENDPOINT_URL": endpoint}) as stack:
            assert f"AWS endpoint {endpoint}" in stack.log.read_text()
            assert requests.get(f"{stack.url}/v2/", auth=ADMIN, timeout=60).status_code == 200
            tables = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1").list_tables()
            assert tables["TableNames"] == ["harbor-serverless-metadata"]
        assert requests.get(endpoint, timeout=60).status_code == 200  # the emulator it did not start runs on
    finally:
        emulator.terminate()
        emulator.wait(timeout=60)


def test_every_request_logs_one_json_line_with_its_request_id(stack: Stack) -> None:
    requests.get(f"{stack.url}/v2/", auth=ADMIN, headers={"X-Marker": "1"}, timeout=60)
    lines = [json.loads(line) for line in stack.log.read_text().splitlines() if line.startswith("{")]
    requests_logged = [entry for entry in lines if entry.get("message") == "request"]
    assert requests_logged
    last = requests_logged[-1]
    assert last["path"] == "/v2/" and last["status"] == 200 and last["method"] == "GET"
    assert last["function_name"] == "harbor-serverless-dev"  # the API's, never a function's run in-process
    assert len(last["request_id"]) == 36
    json_lines = [line for line in stack.log.read_text().splitlines() if line.startswith("{")]
    assert not [line for line in json_lines if "Harbor12345" in line or "Basic " in line]  # no secret logged


def test_a_restart_serves_the_same_images_users_tokens_and_reports(tmp_path: Path) -> None:
    data = {"DATA_DIR": str(tmp_path / "kept")}
    image = alpine_318()
    with local_stack(tmp_path / "first", env_extra=data) as stack:
        push(stack, tmp_path, image, "library/alpine:3.18")
        created = requests.post(f"{stack.url}/api/v2.0/users", auth=ADMIN, timeout=30, json={
            "username": "alice", "password": "Alice12345", "email": "a@example.com", "realname": "Alice"})
        assert created.status_code == 201, created.text
        assert requests.post(f"{stack.url}/api/v2.0/projects/library/repositories/alpine/artifacts/3.18/scan",
                             auth=ADMIN, timeout=30).status_code == 202
        report = wait_for_report(stack, "/projects/library/repositories/alpine/artifacts/3.18")
        token = requests.get(f"{stack.url}/service/token?scope=repository:library/alpine:pull", auth=ADMIN,
                             timeout=30).json()["token"]
    with local_stack(tmp_path / "second", env_extra=data) as stack:
        assert "(restored)" in stack.log.read_text()
        manifest = requests.get(f"{stack.url}/v2/library/alpine/manifests/3.18", timeout=30, headers={
            "Authorization": f"Bearer {token}", "Accept": "application/vnd.oci.image.manifest.v1+json"})
        assert manifest.status_code == 200 and manifest.content == image.manifest
        layer = requests.get(f"{stack.url}/v2/library/alpine/blobs/{sha256(image.layers[0])}", auth=ADMIN, timeout=30)
        assert layer.status_code == 200 and layer.content == image.layers[0]
        assert requests.get(f"{stack.url}/api/v2.0/users/current", auth=("alice", "Alice12345"),
                            timeout=30).status_code == 200
        again = wait_for_report(stack, "/projects/library/repositories/alpine/artifacts/3.18")
        assert findings(again) == findings(report) == sorted(ALPINE_318_FINDINGS)


def test_a_stop_answers_or_closes_requests_in_flight_and_exits(tmp_path: Path) -> None:
    with local_stack(tmp_path) as stack:
        host, port = stack.host.split(":")
        stalled = socket.create_connection((host, int(port)), timeout=120)
        stalled.sendall(b"PATCH /v2/library/app/blobs/uploads/x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n12")
        assert requests.get(f"{stack.url}/v2/", auth=ADMIN, timeout=30).status_code == 200  # it is being served
        assert stack.process is not None
        stack.process.send_signal(signal.SIGTERM)
        assert stack.process.wait(timeout=60) == 0
        with contextlib.suppress(ConnectionResetError):  # closed at the exit, not left hanging
            assert stalled.recv(65536) == b""
        stalled.close()
        assert "stopped" in stack.log.read_text()


def _refused(stack: Stack) -> bool:
    try:
        requests.get(f"{stack.url}/v2/", timeout=60)
    except requests.ConnectionError:
        return True
    return False


def test_requests_are_served_by_worker_processes_that_are_replaced_and_never_outlive_the_launcher(
        tmp_path: Path) -> None:
    with local_stack(tmp_path, "--workers", "2") as stack:
        assert stack.process is not None
        workers = children_running(stack.process.pid, "infra.api_worker")
        assert len(workers) == 2
        os.kill(min(workers), signal.SIGKILL)  # a worker dies, as a Lambda instance may
        wait_until(lambda: len(children_running(stack.process.pid, "infra.api_worker") - workers) == 1)
        for _ in range(20):  # whichever process accepts, every request is answered
            assert requests.get(f"{stack.url}/v2/", auth=ADMIN, timeout=30).status_code == 200
        workers = children_running(stack.process.pid, "infra.api_worker")
        stack.process.kill()  # the launcher killed outright: its workers must not keep its port
        stack.process.wait()
        wait_until(lambda: _refused(stack) and not [pid for pid in workers if running(pid)])


def _redis_servers(launcher: int) -> dict[int, str]:
    """The launcher's redis-server children: pid -> its command line (which names the port)."""
    return {pid: command for pid, command in children(launcher).items() if "redis-server" in command}


def test_a_redis_server_that_dies_is_started_again_on_its_port(tmp_path: Path) -> None:
    with local_stack(tmp_path) as stack:
        assert stack.process is not None
        [(first, command)] = _redis_servers(stack.process.pid).items()
        os.kill(first, signal.SIGKILL)
        wait_until(lambda: set(_redis_servers(stack.process.pid)) - {first} != set())
        [again] = _redis_servers(stack.process.pid).values()
        assert again.split()[-1] == command.split()[-1]  # the same address, as REDIS_URL says

        def cache_healthy() -> bool:
            health = requests.get(f"{stack.url}/api/v2.0/health", timeout=60).json()
            return {c["name"]: c["status"] for c in health["components"]}["redis"] == "healthy"
        wait_until(cache_healthy)
        assert "redis-server exited: starting it again" in stack.log.read_text()


def test_a_launcher_that_fails_to_start_leaves_no_child_running(tmp_path: Path) -> None:
    taken = socket.create_server(("127.0.0.1", 0))
    log = tmp_path / "launcher.log"
    env = {**{k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL"}, "DATA_DIR": str(tmp_path / "data")}
    with log.open("wb") as out:
        launcher = subprocess.Popen([sys.executable, "-m", "infra.launcher", "--port", str(taken.getsockname()[1]),
                                     "--emulator-port", str(free_port())],
                                    cwd=Path(__file__).resolve().parents[2], env=env, stdout=out, stderr=out)
    try:
        wait_until(lambda: "Cache: redis-server on" in log.read_text() or launcher.poll() is not None)
        servers = children_running(launcher.pid, "redis-server")
        assert launcher.wait(timeout=600) != 0  # its port is taken
        assert "Address already in use" in log.read_text()
        wait_until(lambda: not [pid for pid in servers if running(pid)])
    finally:
        taken.close()
        if launcher.poll() is None:
            launcher.kill()


def test_every_pull_answered_while_the_cache_hangs_then_dies_is_counted_and_audited(tmp_path: Path) -> None:
    image = make_image("pulled through a cache outage")
    with local_stack(tmp_path) as stack:
        assert stack.process is not None
        push(stack, tmp_path, image, "library/outage:v1")
        [redis_pid] = children_running(stack.process.pid, "redis-server")

        def pull() -> int:
            return requests.get(f"{stack.url}/v2/library/outage/manifests/v1", auth=ADMIN, timeout=120,
                                headers={"Accept": OCI_MANIFEST}).status_code

        with load(pull, threads=6) as pulls:
            pulls.wait_for_more(50)
            os.kill(redis_pid, signal.SIGSTOP)  # hangs: every connection to it stalls
            pulls.wait_for_more(50)
            os.kill(redis_pid, signal.SIGKILL)  # then dies with what it held
            pulls.wait_for_more(50)
        pulled = pulls.statuses.count(200)
        assert pulled == len(pulls.statuses)

        def counted() -> tuple[int, int]:
            repository = requests.get(f"{stack.url}/api/v2.0/projects/library/repositories/outage", auth=ADMIN,
                                      timeout=60).json()
            records = requests.get(f"{stack.url}/api/v2.0/audit-logs?q=operation%3Dpull%2Cresource%3D~library"
                                   f"%2Foutage%3A&page_size=1", auth=ADMIN, timeout=60)
            return repository["pull_count"], int(records.headers["X-Total-Count"])
        wait_until(lambda: counted() == (pulled, pulled))
