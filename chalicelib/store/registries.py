"""Registry endpoints (Harbor's /registries): each at PK=REGISTRIES, SK=<name>, found by id through
PK=REGISTRYID#<id> (store/named.py). The credential's secret is a SecureString parameter
<REGISTRY_CREDENTIALS_PATH>/<id>, never in the table; the access key is kept beside the record."""

from __future__ import annotations

from dataclasses import dataclass, replace

from chalicelib.config import settings
from chalicelib.errors import Conflict
from chalicelib.store import metadata, parameters
from chalicelib.store.named import Named

_PARTITION = "REGISTRIES"
_NAMED = Named("REGISTRY")


class RegistryExists(Conflict):
    def __init__(self, name: str) -> None:
        super().__init__(f"registry {name} already exists")


@dataclass(frozen=True)
class Registry:
    registry_id: int
    name: str
    type: str
    url: str
    description: str = ""
    insecure: bool = False
    credential_type: str = ""
    access_key: str = ""
    status: str = ""  # healthy, unhealthy, or "" before the first check
    creation_time: str = ""
    update_time: str = ""
    secret_stored: bool = False

    def access_secret(self) -> str:
        return (parameters.get_secret(_secret_parameter(self.registry_id)) or "") if self.secret_stored else ""


def _secret_parameter(registry_id: int) -> str:
    return f"{settings().registry_credentials_path}/{registry_id}"


def _attributes(r: Registry) -> metadata.Item:
    return {"registry_id": r.registry_id, "type": r.type, "url": r.url, "description": r.description,
            "insecure": r.insecure, "credential_type": r.credential_type, "access_key": r.access_key,
            "status": r.status, "creation_time": r.creation_time, "update_time": r.update_time,
            "secret_stored": r.secret_stored}


def _registry(item: metadata.Item) -> Registry:
    return Registry(int(item["registry_id"]), item["SK"], item["type"], item["url"], item.get("description", ""),
                    bool(item.get("insecure")), item.get("credential_type", ""), item.get("access_key", ""),
                    item.get("status", ""), item.get("creation_time", ""), item.get("update_time", ""),
                    bool(item.get("secret_stored")))


def new_id() -> int:
    return metadata.next_id("REGISTRY")


def _keep_secret(registry: Registry, secret: str | None) -> Registry:
    """Store the secret encrypted (None keeps what is stored, "" removes it)."""
    if secret is None:
        return registry
    if secret:
        parameters.put_secret(_secret_parameter(registry.registry_id), secret)
    else:
        parameters.delete_secret(_secret_parameter(registry.registry_id))
    return replace(registry, secret_stored=bool(secret))


def create(registry: Registry, secret: str) -> Registry:
    """RegistryExists when the name is taken (the secret stored for it is removed again)."""
    registry = _keep_secret(registry, secret)
    try:
        _NAMED.create(registry.registry_id, _PARTITION, registry.name, _attributes(registry))
    except metadata.ConditionFailed as error:
        parameters.delete_secret(_secret_parameter(registry.registry_id))
        raise RegistryExists(registry.name) from error
    return registry


def update(old: Registry, new: Registry, secret: str | None) -> Registry:
    """Replace the record (renamed when the name changed); RegistryExists when the new name is taken."""
    new = _keep_secret(new, secret)
    try:
        metadata.transact(_NAMED.rename_ops(new.registry_id, _PARTITION, old.name, new.name, _attributes(new)))
    except metadata.ConditionFailed as error:
        raise RegistryExists(new.name) from error
    return new


def set_status(registry: Registry, status: str) -> None:
    metadata.set_fields(_PARTITION, registry.name, {"status": status})


def delete(registry: Registry) -> None:
    metadata.transact(_NAMED.delete_ops(registry.registry_id, _PARTITION, registry.name))
    parameters.delete_secret(_secret_parameter(registry.registry_id))


def get(registry_id: int) -> Registry | None:
    item = _NAMED.by_id(registry_id, _PARTITION)
    return _registry(item) if item else None


def list_all() -> list[Registry]:
    return [_registry(item) for item in _NAMED.iterate(_PARTITION)]
