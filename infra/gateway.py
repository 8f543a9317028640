"""A local API Gateway (REST API, Lambda proxy integration) in front of the Chalice app.

It turns each HTTP request into the proxy event API Gateway sends to Lambda and the Lambda
result back into HTTP, with what `chalice local` lacks: greedy `{proxy+}` routes across path
segments, chunked request bodies, no body on HEAD, and binary bodies base64-encoded (the deployed
API declares every media type binary, so bodies reach the app byte for byte).

Like Lambda, each app instance serves one request at a time; a small pool of instances (each a
separate import of app.py) serves requests concurrently. With `enforce_limits`, the AWS limits
apply: a 6 MB Lambda payload (413), a 6 MB response (502) and the 29 s integration timeout (504).
"""

from __future__ import annotations

import base64
import contextlib
import ctypes
import importlib.util
import json
import queue
import re
import socket
import ssl
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from infra import invocation

APP_FILE = Path(__file__).resolve().parent.parent / "app.py"
API_FUNCTION = "APIHandler"  # the API Lambda's logical id in the packaged template
LAMBDA_PAYLOAD_LIMIT = 6 * 1024 * 1024
INTEGRATION_TIMEOUT_SECONDS = 29.0


@dataclass(frozen=True)
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


class _LambdaContext:
    """The fields of Lambda's context object that the app and powertools read."""

    function_name = "harbor-serverless-dev"
    function_version = "$LATEST"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:harbor-serverless-dev"
    log_group_name = "/aws/lambda/harbor-serverless-dev"
    log_stream_name = "local"

    def __init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())
        self._deadline = time.monotonic() + INTEGRATION_TIMEOUT_SECONDS

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _route_regex(pattern: str) -> re.Pattern[str]:
    regex = re.sub(r"\\\{(\w+)\\\+\\\}", r"(?P<\1>.+)", re.escape(pattern))
    regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", regex)
    return re.compile(f"^{regex}$")


def _specificity(pattern: str) -> tuple[int, int]:
    # API Gateway prefers literal paths, then single-segment parameters, then greedy ones.
    return ("+}" in pattern, pattern.count("{"))


def load_app(index: int) -> Any:
    """A fresh import of app.py: one 'Lambda instance' with its own Chalice object."""
    spec = importlib.util.spec_from_file_location(f"_lambda_instance_{index}", APP_FILE)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    if str(APP_FILE.parent) not in sys.path:
        sys.path.insert(0, str(APP_FILE.parent))
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module.app


class Gateway:
    def __init__(self, app_factory: Callable[[int], Any] = load_app, instances: int = 4,
                 enforce_limits: bool = False) -> None:
        self._pool: queue.Queue[Any] = queue.Queue()
        for index in range(instances):
            self._pool.put(app_factory(index))
        first = self._pool.queue[0]
        self._routes = sorted(((p, _route_regex(p)) for p in first.routes), key=lambda r: _specificity(r[0]))
        self.enforce_limits = enforce_limits

    def _match(self, path: str) -> tuple[str, dict[str, str]] | None:
        path = path.rstrip("/") or "/"
        for pattern, regex in self._routes:
            found = regex.match(path)
            if found:
                return pattern, found.groupdict()
        return None

    def event(self, method: str, target: str, headers: list[tuple[str, str]], body: bytes,
              resource: str, path_parameters: dict[str, str]) -> dict[str, Any]:
        url = urlsplit(target)
        multi_headers: dict[str, list[str]] = {}
        for name, value in headers:
            multi_headers.setdefault(name, []).append(value)
        multi_query: dict[str, list[str]] = {}
        for name, value in parse_qsl(url.query, keep_blank_values=True):
            multi_query.setdefault(name, []).append(value)
        request_id = str(uuid.uuid4())
        return {
            "resource": resource, "path": unquote(url.path), "httpMethod": method,
            "headers": {k: v[-1] for k, v in multi_headers.items()} or None,
            "multiValueHeaders": multi_headers or None,
            "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
            "multiValueQueryStringParameters": multi_query or None,
            "pathParameters": {k: unquote(v) for k, v in path_parameters.items()} or None,
            "stageVariables": None,
            "requestContext": {"resourcePath": resource, "httpMethod": method, "requestId": request_id,
                               "path": f"/api{url.path}", "stage": "api",
                               "identity": {"sourceIp": "127.0.0.1"}},
            "body": base64.b64encode(body).decode() if body else None,
            "isBase64Encoded": bool(body),
        }

    def invoke(self, method: str, target: str, headers: list[tuple[str, str]], body: bytes = b"") -> Answer:
        matched = self._match(urlsplit(target).path)
        if matched is None:
            return _json_answer(403, {"message": "Missing Authentication Token"})
        resource, path_parameters = matched
        event = self.event(method, target, headers, body, resource, path_parameters)
        if self.enforce_limits and len(json.dumps(event)) > LAMBDA_PAYLOAD_LIMIT:
            return _json_answer(413, {"message": "Request Too Long"})
        app = self._pool.get()
        started = time.monotonic()
        try:
            with invocation.running(API_FUNCTION):
                result = app(event, _LambdaContext())
        finally:
            # Chalice keeps the last request (its body too) until the next one: a large upload's memory
            # would stay held by an idle instance.
            app.current_request = app.lambda_context = None
            self._pool.put(app)
        if self.enforce_limits:
            if time.monotonic() - started > INTEGRATION_TIMEOUT_SECONDS:
                return _json_answer(504, {"message": "Endpoint request timed out"})
            if len(json.dumps(result)) > LAMBDA_PAYLOAD_LIMIT:
                return _json_answer(502, {"message": "Internal server error"})
        return _answer(result)


def _json_answer(status: int, body: dict[str, Any]) -> Answer:
    return Answer(status, [("Content-Type", "application/json")], json.dumps(body).encode())


def _answer(result: dict[str, Any]) -> Answer:
    headers = [(k, str(v)) for k, v in (result.get("headers") or {}).items()]
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers += [(name, str(v)) for v in values]
    raw = result.get("body") or ""
    body = base64.b64decode(raw) if result.get("isBase64Encoded") else raw.encode()
    return Answer(int(result["statusCode"]), headers, body)


class BadRequest(Exception):
    """The request cannot be read: it is answered 400 and the connection closed."""


class TooLarge(Exception):
    """The body could never be stored: it is answered 413 and the connection closed."""


_CHUNK_SIZE = re.compile(rb"[0-9a-fA-F]{1,15}")
_CONTENT_LENGTH = re.compile(r"[0-9]{1,15}")
BODY_LIMIT_BYTES = 5 * 1024 ** 4  # S3's largest object: no body beyond it can be stored
_READ_BYTES = 1024 * 1024  # a body is read a piece at a time: memory follows what arrived, not what was declared


_TRIM_AFTER_BYTES = 64 * 1024 * 1024


def _return_freed_memory() -> None:
    """Give the allocator's freed pages back to the system after a large body (glibc keeps the heap
    pieces a body was read into, and a worker stayed hundreds of MB larger after one large upload)."""
    with contextlib.suppress(AttributeError, OSError):  # not glibc: nothing to ask
        ctypes.CDLL(None).malloc_trim(0)


def _read_exactly(stream: Any, size: int, received: int = 0) -> list[bytes]:
    """`size` bytes in pieces; `received`: what the body held before them (for its limit)."""
    if received + size > BODY_LIMIT_BYTES:
        raise TooLarge
    pieces = []
    while size:
        piece = stream.read(min(size, _READ_BYTES))
        if not piece:
            raise BadRequest("the request body is shorter than its Content-Length")
        pieces.append(piece)
        size -= len(piece)
    return pieces


def _read_chunked(stream: Any) -> bytes:
    pieces: list[bytes] = []
    received = 0
    while True:
        line = stream.readline(1024)
        size_text = line.split(b";", 1)[0].strip()
        if not _CHUNK_SIZE.fullmatch(size_text):
            raise BadRequest("invalid chunk size")
        size = int(size_text, 16)
        if size == 0:
            while stream.readline(8192) not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return b"".join(pieces)
        pieces += _read_exactly(stream, size, received)
        received += size
        if stream.readline(3) not in (b"\r\n", b"\n"):
            raise BadRequest("a chunk is longer than its size")


def _read_body(handler: BaseHTTPRequestHandler) -> bytes:
    if "chunked" in (handler.headers.get("Transfer-Encoding") or "").lower():
        return _read_chunked(handler.rfile)
    declared = handler.headers.get_all("Content-Length") or []
    if not declared:
        return b""
    if len(set(declared)) != 1 or not _CONTENT_LENGTH.fullmatch(declared[0].strip()):
        raise BadRequest("invalid Content-Length")
    return b"".join(_read_exactly(handler.rfile, int(declared[0])))


def make_handler(gateway: Gateway, body_timeout: float = 10.0) -> type[BaseHTTPRequestHandler]:
    """`body_timeout`: how long a body may stall before the request is answered 400 (a client that
    declared more than it sends would otherwise hold the connection until it gives up)."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
            """Every error the HTTP layer itself answers (bad request line, unknown method) is JSON, as
            API Gateway's are, and closes the connection."""
            self.close_connection = True
            body = json.dumps({"message": message or self.responses.get(code, ("error",))[0]}).encode()
            self.send_response(code, message)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD" and code >= 200 and code not in (204, 304):
                self.wfile.write(body)

        def _unsupported(self) -> None:
            self.send_error(405, "Method Not Allowed")

        def _serve(self) -> None:
            if not self.server.request_started():  # type: ignore[attr-defined]
                self.close_connection = True  # stopping: closed unanswered, never cut halfway
                return
            try:
                self._answer()
            finally:
                self.server.request_finished()  # type: ignore[attr-defined]

        def _answer(self) -> None:
            self.connection.settimeout(body_timeout)
            try:
                body = _read_body(self)
            except TooLarge:
                self.send_error(413, "Request Too Long")
                return
            except (BadRequest, TimeoutError) as error:
                self.send_error(400, str(error) if isinstance(error, BadRequest) else
                                "the request body did not arrive in time")
                return
            finally:
                self.connection.settimeout(None)
            headers = [(k, v) for k, v in self.headers.items()
                       if k.lower() not in ("transfer-encoding", "x-forwarded-proto", "x-forwarded-for")]
            # API Gateway tells the integration how the client connected.
            scheme = "https" if isinstance(self.connection, ssl.SSLSocket) else "http"
            headers += [("X-Forwarded-Proto", scheme), ("X-Forwarded-For", self.client_address[0])]
            answer = gateway.invoke(self.command, self.path, headers, body)
            if len(body) >= _TRIM_AFTER_BYTES:
                del body
                _return_freed_memory()
            self.send_response(answer.status)
            names = {k.lower() for k, _ in answer.headers}
            for name, value in answer.headers:
                self.send_header(name, value)
            if "content-length" not in names:
                self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(answer.body)

        do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _serve
        do_TRACE = do_CONNECT = _unsupported

        def log_message(self, format: str, *args: Any) -> None:  # the app logs every request itself
            pass

    return Handler


class _Server(ThreadingHTTPServer):
    """With a TLS context, each connection is served as TLS or plain HTTP by its first byte: the docker
    CLI fetches over HTTPS but pushes to an --insecure registry over plain HTTP, to the same port."""

    daemon_threads = True
    tls: ssl.SSLContext | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_flight = 0
        self._draining = False
        self._idle = threading.Condition()

    def get_request(self) -> tuple[socket.socket, Any]:
        request, address = self.socket.accept()
        request.setblocking(True)  # the listener is not (serve_on); its connections are
        # Headers and body are two writes: with Nagle's algorithm the body waited for the client's
        # delayed ACK of the headers, 40 ms per response with a body (Go's servers turn it off too).
        request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return request, address

    def finish_request(self, request: Any, client_address: Any) -> None:
        if self.tls and request.recv(1, socket.MSG_PEEK) == b"\x16":  # a TLS handshake record
            request = self.tls.wrap_socket(request, server_side=True)
        super().finish_request(request, client_address)

    def request_started(self) -> bool:
        """False once draining: the request must not start (it could be cut by the exit)."""
        with self._idle:
            if self._draining:
                return False
            self._in_flight += 1
            return True

    def request_finished(self) -> None:
        with self._idle:
            self._in_flight -= 1
            self._idle.notify_all()

    def drain(self, timeout: float) -> bool:
        """Start no more requests and wait until none is being served (True), or `timeout` seconds (False)."""
        with self._idle:
            self._draining = True
            return self._idle.wait_for(lambda: self._in_flight == 0, timeout)


def serve(gateway: Gateway, host: str, port: int, tls: ssl.SSLContext | None = None,
          body_timeout: float = 10.0) -> _Server:
    return serve_on(socket.create_server((host, port), backlog=128), gateway, tls, body_timeout)


def serve_on(listener: socket.socket, gateway: Gateway, tls: ssl.SSLContext | None = None,
             body_timeout: float = 10.0) -> _Server:
    """On a listening socket, which other processes may accept from too (infra/api_worker.py). It is
    made non-blocking: every process waiting on it wakes for a new connection, and those that lose the
    race must go back to waiting (and see a shutdown), not block in accept()."""
    listener.setblocking(False)
    server = _Server(listener.getsockname()[:2], make_handler(gateway, body_timeout), bind_and_activate=False)
    server.socket.close()
    server.socket = listener
    server.server_address = listener.getsockname()[:2]
    server.tls = tls
    return server
