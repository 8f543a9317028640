"""The local API Gateway: proxy events as AWS builds them, and the opt-in AWS limits."""

from __future__ import annotations

import json
import os
import socket
import threading
from collections.abc import Iterator

import pytest

from infra import gateway
from tests.support.client import Client
from tests.support.images import sha256


def test_bodies_over_the_lambda_payload_limit_get_413(client: Client) -> None:
    client.gateway.enforce_limits = True
    location = client.request("POST", "/v2/library/app/blobs/uploads/").header("Location")
    too_big = client.request("PATCH", location, body=os.urandom(7 * 1024 * 1024))
    assert too_big.status == 413
    assert too_big.json() == {"message": "Request Too Long"}
    assert client.request("GET", location).header("Range") == "0-0"  # nothing reached the app
    fits = os.urandom(4 * 1024 * 1024)
    assert client.request("PATCH", location, body=fits).status == 202
    assert client.request("PUT", f"{location}?digest={sha256(fits)}").status == 201


def test_binary_bodies_arrive_byte_for_byte_without_content_type(client: Client) -> None:
    data = bytes(range(256)) * 40
    location = client.request("POST", "/v2/library/app/blobs/uploads/").header("Location")
    client.request("PATCH", location, body=data)  # no Content-Type at all
    assert client.request("PUT", f"{location}?digest={sha256(data)}").status == 201


def test_unknown_paths_answer_like_api_gateway(client: Client) -> None:
    reply = client.request("GET", "/nothing/here")
    assert reply.status == 403
    assert reply.json() == {"message": "Missing Authentication Token"}


@pytest.fixture
def http_server(client: Client) -> Iterator[tuple[str, int]]:
    """The gateway on a real socket, with a short wait for a stalled body (a test of the 400, not of time)."""
    server = gateway.serve(client.gateway, "127.0.0.1", 0, body_timeout=0.3)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[:2]
    server.shutdown()
    server.server_close()


def _exchange(address: tuple[str, int], raw: bytes) -> bytes:
    """Send raw bytes, keep the connection open, return everything the server answers until it closes."""
    with socket.create_connection(address, timeout=60) as connection:
        connection.sendall(raw)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
        return received


def _status_and_json(answer: bytes) -> tuple[int, dict]:
    head, _, body = answer.partition(b"\r\n\r\n")
    assert b"Content-Type: application/json" in head, head
    return int(head.split(b" ", 2)[1]), json.loads(body)


@pytest.mark.parametrize("raw", [
    b"PUT /v2/ HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
    b"PUT /v2/ HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
    b"PUT /v2/ HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nshort",
    b"PUT /v2/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
    b"PUT /v2/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n",
])
def test_unreadable_bodies_get_a_400_not_a_hang(http_server: tuple[str, int], raw: bytes) -> None:
    status, body = _status_and_json(_exchange(http_server, raw))
    assert status == 400 and body["message"]


def test_methods_the_api_does_not_serve_get_a_json_error(http_server: tuple[str, int]) -> None:
    status, body = _status_and_json(_exchange(http_server, b"TRACE /v2/ HTTP/1.1\r\nHost: x\r\n\r\n"))
    assert status == 405 and body == {"message": "Method Not Allowed"}
    status, _ = _status_and_json(_exchange(http_server, b"BREW /v2/ HTTP/1.1\r\nHost: x\r\n\r\n"))
    assert status == 501
    ok = _exchange(http_server, b"GET /api/v2.0/ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert ok.startswith(b"HTTP/1.1 200") and ok.endswith(b"Pong")


@pytest.mark.parametrize("raw", [
    b"PATCH /v2/library/app/blobs/uploads/x HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999999999\r\n\r\n12",
    b"PATCH /v2/library/app/blobs/uploads/x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"fffffffffffffff\r\n12",
])
def test_a_body_larger_than_anything_storable_is_413_at_once(http_server: tuple[str, int], raw: bytes) -> None:
    status, body = _status_and_json(_exchange(http_server, raw))
    assert status == 413 and body == {"message": "Request Too Long"}


def test_a_huge_declared_length_reserves_nothing_before_the_bytes_come(http_server: tuple[str, int]) -> None:
    """4 TiB declared and two bytes sent: answered (the body never came), not a MemoryError and a
    dropped connection."""
    raw = b"PATCH /v2/library/app/blobs/uploads/x HTTP/1.1\r\nHost: x\r\nContent-Length: 4398046511104\r\n\r\n12"
    status, body = _status_and_json(_exchange(http_server, raw))
    assert status == 400 and "did not arrive in time" in body["message"]
