"""The launcher itself: an external AWS endpoint (as with LocalStack), request logs, clean stop."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import boto3
import requests

from tests.e2e.conftest import ADMIN, Stack
from tests.support.net import free_port, wait_for_http
from tests.support.stack import local_stack


def test_uses_an_external_endpoint_and_starts_no_emulator(tmp_path: Path) -> None:
    port = free_port()
    emulator = subprocess.Popen([sys.executable, "-m", "moto.server", "-p", str(port)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(endpoint)
        with local_stack(tmp_path, env_extra={"AWS_ENDPOINT_URL": endpoint}) as stack:
            assert f"AWS endpoint {endpoint}" in stack.log.read_text()
            assert requests.get(f"{stack.url}/v2/", auth=ADMIN, timeout=10).status_code == 200
            tables = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1").list_tables()
            assert tables["TableNames"] == ["harbor-serverless-metadata"]
        assert requests.get(endpoint, timeout=5).status_code == 200  # the emulator it did not start runs on
    finally:
        emulator.terminate()
        emulator.wait(timeout=10)


def test_every_request_logs_one_json_line_with_its_request_id(stack: Stack) -> None:
    requests.get(f"{stack.url}/v2/", auth=ADMIN, headers={"X-Marker": "1"}, timeout=10)
    lines = [json.loads(line) for line in stack.log.read_text().splitlines() if line.startswith("{")]
    requests_logged = [entry for entry in lines if entry.get("message") == "request"]
    assert requests_logged
    last = requests_logged[-1]
    assert last["path"] == "/api/v2/" and last["status"] == 200 and last["method"] == "GET"
    assert len(last["request_id"]) == 36
    json_lines = [line for line in stack.log.read_text().splitlines() if line.startswith("{")]
    assert not [line for line in json_lines if "Harbor12345" in line or "Basic " in line]  # no secret logged
