"""HTTP-shaped requests to the app in this process, through the local API Gateway's proxy events
(no sockets): what the unit tests send and read."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from infra import gateway
from tests.support.stack import ADMIN


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        found = [v for k, v in self.headers if k.lower() == name.lower()]
        return found[-1] if found else None

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def error_codes(self) -> list[str]:
        return [e["code"] for e in self.json()["errors"]]


class Client:
    """Sends HTTP-shaped requests through the gateway emulation to the app."""

    def __init__(self, gw: gateway.Gateway) -> None:
        self.gateway = gw

    def request(self, method: str, path: str, *, body: bytes = b"", headers: dict[str, str] | None = None,
                auth: tuple[str, str] | None = ADMIN, token: str | None = None,
                accept: list[str] | None = None) -> Reply:
        sent = [("Host", "registry.test"), *(headers or {}).items()]
        if token:
            sent.append(("Authorization", f"Bearer {token}"))
        elif auth:
            sent.append(("Authorization", "Basic " + base64.b64encode(":".join(auth).encode()).decode()))
        sent += [("Accept", a) for a in accept or []]
        answer = self.gateway.invoke(method, path, sent, body)
        return Reply(answer.status, answer.headers, answer.body)


def api(client: Client, method: str, path: str, body: Any = None, **kwargs: Any) -> Reply:
    """A Harbor API call: JSON body, path under /api/v2.0."""
    headers = {"Content-Type": "application/json", **kwargs.pop("headers", {})}
    raw = json.dumps(body).encode() if body is not None else b""
    return client.request(method, f"/api/v2.0{path}", body=raw, headers=headers, **kwargs)
