"""A small Pluggable Scanner API v1.1 adapter served by the tests: its /metadata, POST /scan, and a
report that is "not ready" (302 + Refresh-After) on the first poll and 200 afterwards."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

GENERIC = "application/vnd.security.vulnerability.report; version=1.1"
VALID_METADATA = {
    "scanner": {"name": "TestScanner", "vendor": "Tests Inc.", "version": "1.2.3"},
    "capabilities": [{"consumes_mime_types": ["application/vnd.oci.image.manifest.v1+json",
                                              "application/vnd.docker.distribution.manifest.v2+json"],
                      "produces_mime_types": [GENERIC]}],
    "properties": {"harbor.scanner-adapter/registry-authorization-type": "Basic"},
}
REPORT_VULNERABILITY = {"id": "CVE-2099-9999", "package": "libtest", "version": "1.0", "fix_version": "1.1",
                        "severity": "negligible", "description": "from the test adapter", "links": [],
                        "preferred_cvss": {"score_v3": 3.1, "vector_v3": "CVSS:3.1/AV:L"}, "cwe_ids": ["CWE-1"]}


@dataclass
class Adapter:
    url: str = ""
    metadata: dict[str, Any] = field(default_factory=lambda: dict(VALID_METADATA))
    not_ready_polls: int = 1
    scan_requests: list[dict[str, Any]] = field(default_factory=list)
    report_polls: int = 0
    headers_seen: list[dict[str, str]] = field(default_factory=list)


def _handler(state: Adapter) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
            raw = json.dumps(body).encode() if body is not None else b""
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_GET(self) -> None:
            state.headers_seen.append(dict(self.headers))
            if self.path == "/api/v1/metadata":
                self._send(200, state.metadata)
            elif self.path.startswith("/api/v1/scan/") and self.path.endswith("/report"):
                state.report_polls += 1
                if state.report_polls <= state.not_ready_polls:
                    self._send(302, headers={"Refresh-After": "1"})
                else:
                    self._send(200, {"generated_at": "2026-11-28T00:00:00Z", "severity": "Low",
                                     "vulnerabilities": [REPORT_VULNERABILITY]})
            else:
                self._send(404, {"error": {"message": "not found"}})

        def do_POST(self) -> None:
            state.headers_seen.append(dict(self.headers))
            length = int(self.headers.get("Content-Length") or 0)
            state.scan_requests.append(json.loads(self.rfile.read(length)))
            self._send(202, {"id": f"request-{len(state.scan_requests)}"})

    return Handler


@contextmanager
def serve_adapter() -> Iterator[Adapter]:
    state = Adapter()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
