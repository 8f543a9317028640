"""Transport-neutral request/response types: services see these, never Chalice or API Gateway."""

from __future__ import annotations

from dataclasses import dataclass, field

JSON = "application/json; charset=utf-8"


@dataclass(frozen=True)
class HttpRequest:
    method: str
    path: str
    headers: dict[str, list[str]]  # lower-case names, every value in order
    query: dict[str, list[str]]
    body: bytes
    base_url: str

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return values[-1] if values else None

    def header_values(self, name: str) -> list[str]:
        return self.headers.get(name.lower(), [])

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None

    def params(self, name: str) -> list[str]:
        return self.query.get(name, [])


@dataclass
class HttpResponse:
    status: int
    headers: dict[str, str | list[str]] = field(default_factory=dict)  # a list: the header repeated
    body: str = ""
