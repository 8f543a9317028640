"""Registry endpoints as Harbor keeps them (src/controller/registry/controller.go): checked for health
before they are saved, never deleted while a policy or a proxy-cache project uses them, their status
refreshed by a periodic check. The credential's secret is write-only."""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from chalicelib import clock
from chalicelib.errors import DomainError, harbor_error
from chalicelib.observability import logger
from chalicelib.projects import iter_projects
from chalicelib.replication import adapters
from chalicelib.store import registries as store
from chalicelib.store import replication as policy_store
from chalicelib.store.registries import Registry, RegistryExists

__all__ = ["LOCAL", "Registry", "RegistryExists"]

HEALTHY, UNHEALTHY = "healthy", "unhealthy"
LOCAL = Registry(0, "Local", adapters.HARBOR, "", status=HEALTHY)  # this registry, as policies name it


def validate_url(url: str) -> str:
    """Harbor's ValidateHTTPURL: http(s) only, a bare host gets http://, no trailing slash."""
    url = url.strip()
    if "://" not in url:
        url = "http://" + url
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise harbor_error("BAD_REQUEST", f"invalid HTTP URL: {url[:200]}")
    return url.rstrip("/")


def remote(registry: Registry, secret: str | None = None) -> adapters.Remote:
    """The registry's adapter, with its stored credential unless `secret` is given."""
    if registry.type not in adapters.TYPES:
        raise harbor_error("BAD_REQUEST", f"adapter factory for {registry.type[:40]} not found")
    return adapters.Remote(registry.type, registry.url, registry.access_key,
                           _stored_secret(registry) if secret is None else secret, registry.insecure)


@lru_cache(maxsize=64)
def _stored_secret(registry: Registry) -> str:
    """The secret from SSM once per version of the record (an update changes `update_time`, so a new secret
    is read): a proxy-cache pull does not pay an SSM call each time."""
    return registry.access_secret()


def _checked(registry: Registry, secret: str | None) -> Registry:
    if not registry.name:
        raise harbor_error("BAD_REQUEST", "name cannot be empty")
    if len(registry.name) > 64:
        raise harbor_error("BAD_REQUEST", "the max length of name is 64")
    registry = replace(registry, url=validate_url(registry.url))
    if not remote(registry, secret).healthy():
        raise harbor_error("BAD_REQUEST", "the registry is unhealthy")
    return replace(registry, status=HEALTHY)


def create(name: str, registry_type: str, url: str, *, description: str, insecure: bool, credential_type: str,
           access_key: str, access_secret: str) -> Registry:
    now = clock.iso()
    registry = _checked(Registry(store.new_id(), name, registry_type, url, description, insecure,
                                 credential_type or ("basic" if access_key else ""), access_key,
                                 creation_time=now, update_time=now), access_secret)
    return store.create(registry, access_secret)


def _changed(registry: Registry, changes: dict[str, Any]) -> Registry:
    """The registry with the fields given (None: unchanged)."""
    return replace(registry, **{k: v for k, v in changes.items() if v is not None})


def update(old: Registry, changes: dict[str, Any], secret: str | None) -> Registry:
    """Apply the fields given; the secret is kept unless a new one is given."""
    new = replace(_changed(old, changes), update_time=clock.iso())
    return store.update(old, _checked(new, secret), secret)


def ping(base: Registry, changes: dict[str, Any], secret: str | None) -> None:
    """BAD_REQUEST unless the registry (a saved one with some fields changed, or a new one) answers with
    the credential; a saved one's own secret is used unless another is given."""
    registry = _changed(base, changes)
    if not registry.type or not registry.url:
        raise harbor_error("BAD_REQUEST", "type or url cannot be empty")
    if not remote(replace(registry, url=validate_url(registry.url)), secret).healthy():
        raise harbor_error("BAD_REQUEST", "the registry is unhealthy")


def get(registry_id: int) -> Registry:
    if registry_id == 0:
        return LOCAL
    found = store.get(registry_id)
    if found is None:
        raise harbor_error("NOT_FOUND", f"registry {registry_id} not found")
    return found


def list_all() -> list[Registry]:
    return store.list_all()


def delete(registry: Registry) -> None:
    """Harbor refuses (412) while a policy or a proxy-cache project uses the registry."""
    if any(registry.registry_id in (p.src_registry_id, p.dest_registry_id) for p in policy_store.list_all()):
        raise DomainError("PRECONDITION", f"the registry {registry.registry_id} is referenced by replication "
                                          "policies, cannot delete it")
    if any(p.registry_id == registry.registry_id for p in iter_projects()):
        raise DomainError("PRECONDITION", f"the registry {registry.registry_id} is referenced by proxy cache "
                                          "project, cannot delete it")
    store.delete(registry)


def info(registry: Registry) -> dict[str, Any]:
    return adapters.info(registry.type, local=registry.registry_id == 0)


def check_health() -> dict[str, str]:
    """The periodic check (Harbor's every 5 minutes): each registry's status, written when it changed."""
    statuses: dict[str, str] = {}
    for registry in store.list_all():
        try:
            status = HEALTHY if remote(registry).healthy() else UNHEALTHY
        except DomainError:
            status = UNHEALTHY
        statuses[registry.name] = status
        if status != registry.status:
            store.set_status(registry, status)
            logger.info("registry status changed", extra={"registry": registry.name, "status": status})
    return statuses
