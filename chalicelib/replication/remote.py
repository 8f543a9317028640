"""A client of another registry's /v2/ API (the distribution spec) and, for Harbor, of its REST API.

Authentication follows the registry's challenge: a 401 names Basic or a Bearer token service, the
token is fetched with the registry's credential for the scope the request needs and kept per scope.
Blobs are streamed both ways in chunks of at most CHUNK_BYTES: a copy never holds a whole layer.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

import urllib3

CHUNK_BYTES = 1024 * 1024
TIMEOUT = urllib3.Timeout(connect=5, read=60)  # a job's calls
# A pull of a proxy-cache project waits on the upstream inside API Gateway's 29 s: it gives up sooner and
# serves what is stored.
REQUEST_TIMEOUT = urllib3.Timeout(connect=3, read=10)
MANIFEST_TYPES = (
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
    "application/vnd.docker.distribution.manifest.v1+json",
)
_ACCEPT_MANIFESTS = {"Accept": ", ".join(MANIFEST_TYPES)}
_CHALLENGE = re.compile(r'(\w+)="([^"]*)"')
_POOLS: dict[bool, urllib3.PoolManager] = {}


class RemoteError(Exception):
    """The registry could not be reached, refused the credential or answered what the spec does not allow."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Credential:
    access_key: str = ""
    access_secret: str = ""

    @property
    def basic(self) -> str | None:
        if not self.access_key and not self.access_secret:
            return None
        return "Basic " + base64.b64encode(f"{self.access_key}:{self.access_secret}".encode()).decode()


@dataclass(frozen=True)
class Descriptor:
    digest: str
    media_type: str
    size: int


def _pool(insecure: bool) -> urllib3.PoolManager:
    if insecure not in _POOLS:
        _POOLS[insecure] = urllib3.PoolManager(num_pools=20, maxsize=8,
                                               cert_reqs="CERT_NONE" if insecure else "CERT_REQUIRED")
    return _POOLS[insecure]


def _repository_scope(repository: str, actions: str) -> str:
    return f"repository:{repository}:{actions}"


@dataclass
class RegistryClient:
    url: str
    credential: Credential = field(default_factory=Credential)
    insecure: bool = False
    # a registry.hub.docker.com-like host whose content lives elsewhere (Docker Hub's API vs registry-1)
    registry_url: str = ""
    timeout: urllib3.Timeout = TIMEOUT
    _tokens: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.url = self.url.rstrip("/")
        self.registry_url = (self.registry_url or self.url).rstrip("/")
        if self.insecure:
            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)

    # -- transport --------------------------------------------------------------------------------

    def request(self, method: str, path: str, *, scope: str = "", headers: dict[str, str] | None = None,
                body: Any = None, stream: bool = False, redirect: bool = True,
                base: str | None = None) -> urllib3.BaseHTTPResponse:
        """One request, authenticated as the registry asks; a 401 is answered once with a new token."""
        url = path if path.startswith(("http://", "https://")) else (base or self.registry_url) + path
        answer = self._send(method, url, scope, headers, body, stream, redirect)
        if answer.status == 401 and not isinstance(body, Iterator):
            challenge = answer.headers.get("WWW-Authenticate", "")
            answer.drain_conn()
            self._tokens[scope] = self._authorization(challenge, scope)
            answer = self._send(method, url, scope, headers, body, stream, redirect)
        return answer

    def _send(self, method: str, url: str, scope: str, headers: dict[str, str] | None, body: Any,
              stream: bool, redirect: bool) -> urllib3.BaseHTTPResponse:
        sent = dict(headers or {})
        authorization = self._tokens.get(scope) or self._tokens.get("*")
        if authorization:
            sent["Authorization"] = authorization
        chunked = isinstance(body, Iterator)
        try:
            return _pool(self.insecure).request(
                method, url, headers=sent, body=body, preload_content=not stream, redirect=redirect,
                timeout=self.timeout, chunked=chunked,
                retries=urllib3.Retry(total=None if redirect else 0, connect=2, read=0, redirect=5 if redirect else 0,
                                      status=0, raise_on_redirect=False, raise_on_status=False))
        except urllib3.exceptions.HTTPError as error:
            raise RemoteError(f"cannot reach {self.registry_url}: {error}") from error

    def _authorization(self, challenge: str, scope: str) -> str:
        """The Authorization header a challenge asks for: Basic, or a token from the realm it names."""
        scheme = challenge.split(" ", 1)[0].lower()
        basic = self.credential.basic
        if scheme == "basic":
            if basic is None:
                raise RemoteError(f"{self.registry_url} requires a credential", 401)
            self._tokens["*"] = basic
            return basic
        if scheme != "bearer":
            raise RemoteError(f"{self.registry_url} answered 401 without a usable challenge", 401)
        params = dict(_CHALLENGE.findall(challenge))
        query = {k: v for k, v in (("service", params.get("service", "")), ("scope", scope or params.get("scope", "")))
                 if v}
        answer = _pool(self.insecure).request(
            "GET", params["realm"] + ("?" + urlencode(query) if query else ""),
            headers={"Authorization": basic} if basic else {}, timeout=self.timeout)
        if answer.status != 200:
            raise RemoteError(f"the token service of {self.registry_url} refused the credential ({answer.status})",
                              401)
        document = json.loads(answer.data or b"{}")
        token = document.get("token") or document.get("access_token")
        if not token:
            raise RemoteError(f"the token service of {self.registry_url} answered no token", 401)
        return f"Bearer {token}"

    # -- the distribution API ---------------------------------------------------------------------

    def ping(self) -> bool:
        """Whether /v2/ answers and accepts the credential."""
        try:
            answer = self.request("GET", "/v2/")
        except RemoteError:
            return False
        return answer.status == 200

    def catalog(self) -> Iterator[str]:
        path = "/v2/_catalog?n=1000"
        while path:
            answer = self.request("GET", path, scope="registry:catalog:*")
            _expect(answer, 200, "list the repositories")
            yield from json.loads(answer.data).get("repositories") or []
            path = _next_link(answer)

    def tags(self, repository: str) -> list[str]:
        found: list[str] = []
        path = f"/v2/{repository}/tags/list?n=1000"
        while path:
            answer = self.request("GET", path, scope=_repository_scope(repository, "pull"))
            if answer.status == 404:
                return found
            _expect(answer, 200, f"list the tags of {repository}")
            found += json.loads(answer.data).get("tags") or []
            path = _next_link(answer)
        return found

    def head_manifest(self, repository: str, reference: str) -> Descriptor | None:
        """The manifest's descriptor without pulling it (a HEAD costs no Docker Hub pull); None when absent."""
        answer = self.request("HEAD", f"/v2/{repository}/manifests/{reference}",
                              scope=_repository_scope(repository, "pull"), headers=_ACCEPT_MANIFESTS)
        if answer.status == 404:
            return None
        _expect(answer, 200, f"find {repository}:{reference}")
        digest = answer.headers.get("Docker-Content-Digest")
        if not digest:  # some registries tell the digest only with the body
            return self.get_manifest(repository, reference)[0]
        return Descriptor(digest, _media_type(answer), int(answer.headers.get("Content-Length") or 0))

    def get_manifest(self, repository: str, reference: str) -> tuple[Descriptor, bytes]:
        answer = self.request("GET", f"/v2/{repository}/manifests/{reference}",
                              scope=_repository_scope(repository, "pull"), headers=_ACCEPT_MANIFESTS)
        _expect(answer, 200, f"pull the manifest {repository}:{reference}")
        body = answer.data
        digest = answer.headers.get("Docker-Content-Digest") or "sha256:" + hashlib.sha256(body).hexdigest()
        return Descriptor(digest, _media_type(answer), len(body)), body

    def put_manifest(self, repository: str, reference: str, media_type: str, body: bytes) -> None:
        answer = self.request("PUT", f"/v2/{repository}/manifests/{reference}", body=body,
                              scope=_repository_scope(repository, "pull,push"), headers={"Content-Type": media_type})
        _expect(answer, 201, f"push the manifest {repository}:{reference}")

    def delete_manifest(self, repository: str, digest: str) -> bool:
        """False when the registry has no such manifest."""
        answer = self.request("DELETE", f"/v2/{repository}/manifests/{digest}",
                              scope=_repository_scope(repository, "delete"))
        if answer.status == 404:
            return False
        _expect(answer, 202, f"delete {repository}@{digest}")
        return True

    def blob_exists(self, repository: str, digest: str) -> bool:
        return self.blob_size(repository, digest) is not None

    def blob_size(self, repository: str, digest: str) -> int | None:
        """The blob's size from a HEAD; None when the repository lacks it."""
        answer = self.request("HEAD", f"/v2/{repository}/blobs/{digest}", scope=_repository_scope(repository, "pull"))
        if answer.status in (200, 307):
            return int(answer.headers.get("Content-Length") or 0)
        if answer.status == 404:
            return None
        raise RemoteError(f"HEAD of blob {digest} in {repository} answered {answer.status}", answer.status)

    def blob_location(self, repository: str, digest: str) -> tuple[int, str]:
        """Where the blob's bytes are: (307, the storage URL the registry redirects to, usable without a
        credential) or (200, this registry's own blob URL); (404, "") when it lacks the blob."""
        answer = self.request("GET", f"/v2/{repository}/blobs/{digest}", scope=_repository_scope(repository, "pull"),
                              stream=True, redirect=False)
        location = answer.headers.get("Location", "")
        status = answer.status
        answer.release_conn() if status != 200 else answer.close()
        if status in (301, 302, 303, 307, 308) and location:
            return 307, urljoin(self.registry_url + "/", location)
        if status == 200:
            return 200, f"{self.registry_url}/v2/{repository}/blobs/{digest}"
        return 404, ""

    def open_blob(self, repository: str, digest: str) -> urllib3.BaseHTTPResponse:
        """The blob's bytes as a stream (read with .stream(CHUNK_BYTES), then release_conn())."""
        answer = self.request("GET", f"/v2/{repository}/blobs/{digest}", scope=_repository_scope(repository, "pull"),
                              stream=True)
        if answer.status != 200:
            answer.drain_conn()
            raise RemoteError(f"pulling blob {digest} of {repository} answered {answer.status}", answer.status)
        return answer

    def mount_blob(self, repository: str, digest: str, source: str) -> str | None:
        """Mount a blob from another repository of the same registry: None when mounted, else the upload
        the registry opened instead (its Location)."""
        scope = f"{_repository_scope(repository, 'pull,push')} {_repository_scope(source, 'pull')}"
        answer = self.request("POST", f"/v2/{repository}/blobs/uploads/?{urlencode({'mount': digest, 'from': source})}",
                              scope=scope)
        if answer.status == 201:
            return None
        _expect(answer, 202, f"start an upload to {repository}")
        return answer.headers["Location"]

    def push_blob(self, repository: str, digest: str, chunks: Iterable[bytes], *, location: str | None = None,
                  max_request_bytes: int | None = None) -> int:
        """Upload a blob from a stream of chunks; returns the bytes sent. With `max_request_bytes`, in PATCHes
        of at most that many bytes (a registry behind API Gateway); else in one streamed PUT."""
        scope = _repository_scope(repository, "pull,push")
        if location is None:
            answer = self.request("POST", f"/v2/{repository}/blobs/uploads/", scope=scope)
            _expect(answer, 202, f"start an upload to {repository}")
            location = answer.headers["Location"]
        location = urljoin(self.registry_url + "/", location)
        sent = 0
        if max_request_bytes is None:
            counted = _Counted(chunks)
            answer = self.request("PUT", _with_query(location, digest=digest), scope=scope, body=counted.stream(),
                                  headers={"Content-Type": "application/octet-stream"})
            _expect(answer, 201, f"upload blob {digest} to {repository}")
            return counted.total
        for part in _gathered(chunks, max_request_bytes):
            answer = self.request("PATCH", location, scope=scope, body=part, headers={
                "Content-Type": "application/octet-stream", "Content-Range": f"{sent}-{sent + len(part) - 1}",
                "Content-Length": str(len(part))})
            _expect(answer, 202, f"upload a chunk of {digest} to {repository}")
            location = urljoin(self.registry_url + "/", answer.headers["Location"])
            sent += len(part)
        answer = self.request("PUT", _with_query(location, digest=digest), scope=scope, body=b"",
                              headers={"Content-Length": "0"})
        _expect(answer, 201, f"finish the upload of {digest} to {repository}")
        return sent

    # -- Harbor's REST API ------------------------------------------------------------------------

    def api(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """A call to Harbor's /api/v2.0 with the credential (Basic, as Harbor's clients do)."""
        headers = {"Content-Type": "application/json"}
        if self.credential.basic:
            headers["Authorization"] = self.credential.basic
        try:
            answer = _pool(self.insecure).request(method, self.url + "/api/v2.0" + path, headers=headers,
                                                  body=json.dumps(body) if body is not None else None,
                                                  timeout=self.timeout)
        except urllib3.exceptions.HTTPError as error:
            raise RemoteError(f"cannot reach {self.url}: {error}") from error
        try:
            document = json.loads(answer.data) if answer.data else None
        except ValueError:
            document = None
        return answer.status, document


class _Counted:
    def __init__(self, chunks: Iterable[bytes]) -> None:
        self.chunks, self.total = chunks, 0

    def stream(self) -> Iterator[bytes]:
        for chunk in self.chunks:
            self.total += len(chunk)
            yield chunk


def _gathered(chunks: Iterable[bytes], size: int) -> Iterator[bytes]:
    """The stream regrouped into parts of exactly `size` bytes (the last may be shorter)."""
    buffer = bytearray()
    for chunk in chunks:
        buffer += chunk
        while len(buffer) >= size:
            yield bytes(buffer[:size])
            del buffer[:size]
    if buffer:
        yield bytes(buffer)


def _with_query(url: str, **params: str) -> str:
    return url + ("&" if urlsplit(url).query else "?") + urlencode(params)


def _media_type(answer: urllib3.BaseHTTPResponse) -> str:
    return (answer.headers.get("Content-Type") or "").split(";")[0].strip()


def _next_link(answer: urllib3.BaseHTTPResponse) -> str:
    found = re.match(r"\s*<([^>]+)>", answer.headers.get("Link", ""))
    return found.group(1) if found else ""


def _expect(answer: urllib3.BaseHTTPResponse, status: int, doing: str) -> None:
    if answer.status != status:
        detail = (answer.data or b"")[:300].decode(errors="replace") if not answer.closed else ""
        raise RemoteError(f"could not {doing}: {answer.status} {detail}".strip(), answer.status)
