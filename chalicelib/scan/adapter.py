"""Client of the Pluggable Scanner API v1.1 (semantics-2.6.md 2.1), used for external adapters."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from chalicelib import inputs
from chalicelib.scan import severity
from chalicelib.scan.severity import DOCKER_MANIFEST, REPORT_TYPES

METADATA_TYPE = "application/vnd.scanner.adapter.metadata+json; version=1.0"
SCAN_REQUEST_TYPE = "application/vnd.scanner.adapter.scan.request+json; version=1.0"
SCAN_RESPONSE_TYPE = "application/vnd.scanner.adapter.scan.response+json; version=1.0"
AUTHORIZATION_TYPE = "harbor.scanner-adapter/registry-authorization-type"
DEFAULT_REFRESH_SECONDS = 5  # Harbor's wait when a 302 carries no Refresh-After
TIMEOUT_SECONDS = 10


class AdapterError(Exception):
    """The adapter could not be reached or answered something the spec does not allow."""


@dataclass(frozen=True)
class Endpoint:
    url: str
    auth: str = ""  # "", Basic, Bearer or X-ScannerAdapter-API-Key
    access_credential: str = ""
    skip_cert_verify: bool = False

    def _headers(self) -> dict[str, str]:
        if not self.access_credential:
            return {}
        if self.auth == "X-ScannerAdapter-API-Key":
            return {"X-ScannerAdapter-API-Key": self.access_credential}
        if self.auth in ("Basic", "Bearer") and not self.access_credential.startswith(self.auth):
            return {"Authorization": f"{self.auth} {self.access_credential}"}
        return {"Authorization": self.access_credential}

    def call(self, method: str, path: str, headers: dict[str, str], body: bytes | None = None,
             ) -> tuple[int, dict[str, str], bytes]:
        request = urllib.request.Request(self.url.rstrip("/") + "/api/v1" + path, data=body, method=method,
                                         headers={**self._headers(), **headers})
        context = ssl._create_unverified_context() if self.skip_cert_verify else None
        opener = urllib.request.build_opener(_NoRedirect, urllib.request.HTTPSHandler(context=context))
        try:
            with opener.open(request, timeout=TIMEOUT_SECONDS) as answer:
                return answer.status, dict(answer.headers), answer.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()
        except (urllib.error.URLError, OSError, ValueError) as error:
            raise AdapterError(f"cannot reach the scanner adapter at {self.url}: {error}") from error


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A 302 from the report endpoint means "not ready yet", not "go elsewhere"."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _json(body: bytes, what: str) -> Any:
    try:
        return inputs.load_json(body)
    except ValueError as error:
        raise AdapterError(f"the adapter's {what} is not JSON") from error


def validate_metadata(document: Any) -> dict[str, Any]:
    """ScannerAdapterMetadata.Validate: a named scanner with capabilities that consume Docker image
    manifests and produce a vulnerability report type Harbor knows."""
    if not isinstance(document, dict) or not isinstance(document.get("scanner"), dict):
        raise AdapterError("invalid scanner adapter metadata: missing scanner")
    scanner = document["scanner"]
    for field in ("name", "vendor", "version"):
        if not isinstance(scanner.get(field), str) or not scanner[field]:
            raise AdapterError(f"invalid scanner adapter metadata: missing scanner {field}")
    capabilities = document.get("capabilities")
    if not isinstance(capabilities, list) or not capabilities:
        raise AdapterError("invalid scanner adapter metadata: no capabilities")
    for capability in capabilities:
        consumes = capability.get("consumes_mime_types") or [] if isinstance(capability, dict) else []
        produces = capability.get("produces_mime_types") or [] if isinstance(capability, dict) else []
        if DOCKER_MANIFEST not in consumes:
            raise AdapterError(f"invalid scanner adapter metadata: a capability does not consume {DOCKER_MANIFEST}")
        if not any(t in REPORT_TYPES for t in produces):
            raise AdapterError("invalid scanner adapter metadata: a capability produces no known report type")
    properties = document.get("properties") or {}
    if not isinstance(properties, dict):
        raise AdapterError("invalid scanner adapter metadata: properties must be an object")
    return {"scanner": {k: scanner[k] for k in ("name", "vendor", "version")},
            "capabilities": capabilities, "properties": properties}


def metadata(endpoint: Endpoint) -> dict[str, Any]:
    status, _, body = endpoint.call("GET", "/metadata", {"Accept": METADATA_TYPE})
    if status != 200:
        raise AdapterError(f"the adapter answered {status} to GET /metadata")
    return validate_metadata(_json(body, "metadata"))


def produced_types(document: dict[str, Any]) -> list[str]:
    produced = {t for c in document["capabilities"] for t in c.get("produces_mime_types") or []}
    return [t for t in REPORT_TYPES if t in produced]


def submit(endpoint: Endpoint, registry_url: str, authorization: str, repository: str, digest: str,
           tag: str, mime_type: str) -> str:
    """POST /scan; the adapter's scan request id."""
    body = json.dumps({"registry": {"url": registry_url, "authorization": authorization},
                       "artifact": {"repository": repository, "digest": digest, "tag": tag,
                                    "mime_type": mime_type}}).encode()
    status, _, answer = endpoint.call("POST", "/scan", {"Content-Type": SCAN_REQUEST_TYPE,
                                                         "Accept": SCAN_RESPONSE_TYPE}, body)
    if status != 202:
        raise AdapterError(f"the adapter refused the scan request ({status}): {answer[:500].decode(errors='replace')}")
    request_id = _json(answer, "scan response").get("id")
    if not isinstance(request_id, str) or not request_id:
        raise AdapterError("the adapter's scan response has no id")
    return request_id


def fetch_report(endpoint: Endpoint, request_id: str, mime_type: str) -> dict[str, Any] | int:
    """The report, or the seconds to wait when the adapter says it is not ready (302)."""
    status, headers, body = endpoint.call("GET", f"/scan/{request_id}/report", {"Accept": mime_type})
    if status == 302:
        refresh = next((v for k, v in headers.items() if k.lower() == "refresh-after"), "")
        return inputs.decimal(refresh.strip()) or DEFAULT_REFRESH_SECONDS
    if status != 200:
        raise AdapterError(f"the adapter answered {status} to GET /scan/{request_id}/report: "
                           f"{body[:500].decode(errors='replace')}")
    report = _json(body, "report")
    if not isinstance(report, dict):
        raise AdapterError("the adapter's report is not a JSON object")
    return report


def normalised(report: dict[str, Any], scanner: dict[str, str]) -> dict[str, Any]:
    """An adapter's report with Harbor's normalisation (2.5 step 1) and the fields the store needs;
    `scanner` names the registration's scanner when the report does not."""
    items = []
    for raw in report.get("vulnerabilities") or []:
        if not isinstance(raw, dict) or not raw.get("id") or not raw.get("package"):
            raise AdapterError("the adapter's report has a vulnerability without id or package")
        items.append({**raw, "version": raw.get("version", ""), "severity": severity.normalise(raw.get("severity")),
                      "links": list(raw.get("links") or []), "cwe_ids": list(raw.get("cwe_ids") or []),
                      "vendor_attributes": raw.get("vendor_attributes") or {}})
    return {**report, "scanner": report.get("scanner") or scanner,
            "severity": severity.overall(i["severity"] for i in items), "vulnerabilities": items}
