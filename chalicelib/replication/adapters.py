"""The kinds of registry replication and proxy caching can talk to (Harbor's adapters): what each
supports (/replication/adapterinfos, /registries/{id}/info), how its repositories are listed and, for a
Harbor, which of its projects are proxy caches (src/pkg/reg/adapter/harbor/base/adapter.go)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from chalicelib.replication.remote import Credential, RegistryClient, RemoteError

HARBOR, DISTRIBUTION, DOCKER_HUB = "harbor", "docker-registry", "docker-hub"
TYPES = (HARBOR, DISTRIBUTION, DOCKER_HUB)
DOCKER_HUB_URL, DOCKER_HUB_REGISTRY = "https://hub.docker.com", "https://registry-1.docker.io"
# A registry behind API Gateway takes at most ~4.5 MB per request (docs/limits.md); a Harbor may be one.
HARBOR_MAX_REQUEST_BYTES = 4 * 1024 * 1024

_NAME = {"type": "name", "style": "input"}
_TAG = {"type": "tag", "style": "input"}
_LABEL = {"type": "label", "style": "input"}


@dataclass(frozen=True)
class Listed:
    """A repository of the registry and its artifacts: (digest or "", tags, label names) each; a registry
    that lists tags only gives one entry per tag with no digest."""

    repository: str
    artifacts: list[tuple[str, list[str], list[str]]]


def infos() -> dict[str, dict[str, Any]]:
    """/replication/adapterinfos: how the portal asks for each type's endpoint and credential."""
    return {HARBOR: {}, DISTRIBUTION: {},
            DOCKER_HUB: {"endpoint_pattern": {"endpoint_type": "EndpointPatternTypeFix",
                                              "endpoints": [{"key": "hub.docker.com", "value": DOCKER_HUB_URL}]},
                         "credential_pattern": {}}}


def info(registry_type: str, local: bool) -> dict[str, Any]:
    """/registries/{id}/info: the filters and triggers a policy with this registry may use. Only the local
    registry has event-based triggers (its pushes and deletions are seen)."""
    filters = [_NAME, _TAG, _LABEL] if registry_type == HARBOR else [_NAME, _TAG]
    triggers = ["manual", "scheduled"] + (["event_based"] if local else [])
    resources = ["image", "artifact"] if registry_type == HARBOR else ["image"]
    return {"type": registry_type, "description": _DESCRIPTIONS[registry_type],
            "supported_resource_filters": [*filters, {"type": "resource", "style": "radio", "values": resources}],
            "supported_triggers": triggers}


_DESCRIPTIONS = {HARBOR: "Harbor, or another instance of this registry",
                 DISTRIBUTION: "The CNCF distribution registry", DOCKER_HUB: "Docker Hub"}


class Remote:
    """A registry reached over HTTP."""

    def __init__(self, registry_type: str, url: str, access_key: str, access_secret: str, insecure: bool) -> None:
        self.type = registry_type
        registry_url = DOCKER_HUB_REGISTRY if registry_type == DOCKER_HUB else url
        self.client = RegistryClient(url, Credential(access_key, access_secret), insecure, registry_url)
        self.max_request_bytes = HARBOR_MAX_REQUEST_BYTES if registry_type == HARBOR else None

    def healthy(self) -> bool:
        if self.type == HARBOR:
            try:
                status, _ = self.client.api("GET", "/ping")
            except RemoteError:
                return False
            return status == 200 and self.client.ping()
        return self.client.ping()

    def repositories(self, namespaces: list[str]) -> Iterator[str]:
        """Every repository (a Harbor's through its API, so labels come along), or those of the projects
        the name filter names (`namespaces`, when it names them); Docker Hub lists only those (its catalog
        is not open)."""
        if self.type == DOCKER_HUB:
            for namespace in namespaces:
                yield from self._hub_repositories(namespace)
        elif self.type == HARBOR:
            for project in namespaces or [p["name"] for p in self._pages("/projects?")]:
                try:
                    yield from (r["name"] for r in self._pages(f"/projects/{quote(project)}/repositories?"))
                except RemoteError as error:
                    if error.status != 404:  # a project the filter names that is not there has nothing
                        raise
        else:
            yield from self.client.catalog()

    def listed(self, repository: str) -> Listed:
        if self.type != HARBOR:
            return Listed(repository, [("", [tag], []) for tag in self.client.tags(repository)])
        project, _, rest = repository.partition("/")
        path = f"/projects/{quote(project)}/repositories/{quote(quote(rest, safe=''))}/artifacts?with_tag=true&"
        return Listed(repository, [(a["digest"], [t["name"] for t in a.get("tags") or []],
                                    [label["name"] for label in a.get("labels") or []]) for a in self._pages(path)])

    def proxy_cache_projects(self) -> set[str]:
        """A Harbor's projects that are proxy caches (registry_id set): replication skips them."""
        if self.type != HARBOR:
            return set()
        return {p["name"] for p in self._pages("/projects?") if p.get("registry_id")}

    def ensure_project(self, name: str) -> None:
        """Create the destination project on a Harbor; one that exists (409) is fine."""
        if self.type != HARBOR:
            return
        status, document = self.client.api("POST", "/projects", {"project_name": name, "metadata": {"public": "false"}})
        if status not in (201, 409):
            raise RemoteError(f"could not create the project {name}: {status} {document}", status)

    def _pages(self, path: str) -> Iterator[dict[str, Any]]:
        page = 1
        while True:
            status, document = self.client.api("GET", f"{path}page={page}&page_size=100")
            if status != 200:
                raise RemoteError(f"{self.client.url}/api/v2.0{path.rstrip('?&')} answered {status}", status)
            yield from document or []
            if not document or len(document) < 100:
                return
            page += 1

    def _hub_repositories(self, namespace: str) -> Iterator[str]:
        path = f"{DOCKER_HUB_URL}/v2/repositories/{quote(namespace)}/?page_size=100"
        while path:
            answer = self.client.request("GET", path)
            if answer.status != 200:
                raise RemoteError(f"Docker Hub answered {answer.status} listing {namespace}", answer.status)
            document = json.loads(answer.data)
            yield from (f"{namespace}/{r['name']}" for r in document.get("results") or [])
            path = document.get("next") or ""
