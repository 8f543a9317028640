"""The HTTP API (deployed by Chalice as the API Lambda): /v2/, /api/v2.0/, /service/token.

Each route only adapts the API Gateway request to chalicelib's HttpRequest and back.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from chalice import Chalice, Response

from chalicelib.config import settings
from chalicelib.errors import DomainError
from chalicelib.handlers import browser, errors, portal, v2
from chalicelib.handlers import token as token_service
from chalicelib.handlers.harbor import router as api_router
from chalicelib.handlers.http import HttpRequest, HttpResponse
from chalicelib.observability import log_invocation, logger, metrics, request_id, tracer

# Chalice would set the logger of its app's name, which is powertools' service logger too, to ERROR:
# every request and warning line would be dropped. Logging is observability.py's.
app = Chalice(app_name="harbor-serverless", configure_logs=False)
REGISTRY_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
ANY_CONTENT = ["*/*"]  # blobs, manifests of any media type: the service validates them


@app.middleware("http")
def observe(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """One JSON log line per request; metrics flushed per request. The request's id is the caller's
    X-Request-Id (Harbor's convention) or API Gateway's; the work it causes carries it (observability.py)."""
    context = event.context or {}
    caller_id = (event.headers or {}).get("x-request-id", "")[:128]
    # The path as the client sent it below the stage (the context's path starts with the stage name).
    log_invocation(app.lambda_context, request_id=caller_id or context.get("requestId") or str(uuid.uuid4()),
                   method=event.method, path=event.to_original_event().get("path"))
    started = time.perf_counter()
    response = get_response(event)
    elapsed_ms = round((time.perf_counter() - started) * 1000, 2)
    logger.info("request", status=response.status_code, duration_ms=elapsed_ms)
    metrics.add_metric(name="Requests", unit="Count", value=1)
    metrics.flush_metrics()
    metrics.clear_metrics()  # flush keeps the set when metrics are disabled; it would grow across requests
    return response


@app.route("/v2", methods=REGISTRY_METHODS, content_types=ANY_CONTENT)
def registry_base() -> Response:
    return _serve(v2.handle, "")


@app.route("/v2/{proxy+}", methods=REGISTRY_METHODS, content_types=ANY_CONTENT)
def registry() -> Response:
    return _serve(v2.handle, (app.current_request.uri_params or {}).get("proxy", ""))


@app.route("/api/v2.0/{proxy+}", methods=REGISTRY_METHODS, content_types=ANY_CONTENT)
def harbor_api() -> Response:
    response = _serve(api_router.handle, (app.current_request.uri_params or {}).get("proxy", ""))
    # Harbor echoes the caller's X-Request-Id (or makes one) on every answer, errors included.
    response.headers.setdefault("X-Request-Id", request_id())
    return response


@app.route("/", methods=["GET"])
def portal_home() -> Response:
    return _serve(portal.page, "")


@app.route("/harbor/{proxy+}", methods=["GET"])
def portal_screen() -> Response:
    return _serve(portal.page, "")


@app.route("/static/{proxy+}", methods=["GET"])
def portal_file() -> Response:
    return _serve(portal.static, (app.current_request.uri_params or {}).get("proxy", ""))


@app.route("/c/login", methods=["POST"], content_types=ANY_CONTENT)
def login() -> Response:
    return _serve(browser.login, "")


@app.route("/c/log_out", methods=["GET"])
def log_out() -> Response:
    return _serve(browser.log_out, "")


@app.route("/service/token", methods=["GET"])
def token() -> Response:
    return _serve(token_service.token_response, "")


def _base_url(headers: dict[str, list[str]]) -> str:
    if settings().external_url:
        return settings().external_url.rstrip("/")  # type: ignore[union-attr]
    proto = (headers.get("x-forwarded-proto") or ["http"])[-1]
    host = (headers.get("host") or ["localhost"])[-1]
    return f"{proto}://{host}"


def _request(path: str) -> HttpRequest:
    current = app.current_request
    event = current.to_original_event()
    headers = {k.lower(): list(v) for k, v in (event.get("multiValueHeaders") or {}).items()}
    for name, value in (event.get("headers") or {}).items():
        headers.setdefault(name.lower(), [value])
    query = {k: list(v) for k, v in (event.get("multiValueQueryStringParameters") or {}).items()}
    body = current.raw_body
    return HttpRequest(current.method, path, headers, query, body if isinstance(body, bytes) else body.encode(),
                       _base_url(headers))


@tracer.capture_method
def _serve(handler: Callable[[HttpRequest], HttpResponse], path: str) -> Response:
    request = _request(path)
    try:
        answer = handler(request)
    except DomainError as error:
        answer = errors.answer(request, error)
    except Exception:
        logger.exception("unhandled error")
        answer = errors.internal_error()
    headers = {**v2.API_VERSION_HEADER, **answer.headers}
    return Response(body=answer.body, headers=headers, status_code=answer.status)
