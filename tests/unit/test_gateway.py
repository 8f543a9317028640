"""The local API Gateway: proxy events as AWS builds them, and the opt-in AWS limits."""

from __future__ import annotations

import os

from tests.support.images import sha256
from tests.unit.conftest import Client


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
