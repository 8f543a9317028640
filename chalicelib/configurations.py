"""The system configuration items this registry honours, as Harbor's /configurations shows and takes
them (src/lib/config/metadata/metadatalist.go): their types, defaults, whether they may be changed,
their checks, and where they are enforced (read-only mode, who may create projects, robot token
duration). Items Harbor has that are not here (LDAP, OIDC, email, quotas) are refused as unknown."""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalicelib.errors import DomainError, harbor_error
from chalicelib.store import configurations as store

READ_ONLY_MESSAGE = "The system is in read only mode. Any modification is prohibited."
_DIAL_TIMEOUT_SECONDS = 3.0
_NO_ENDPOINT = "audit log forward endpoint should be configured before enable skip audit log in database"


def _one_of(*allowed: str) -> Callable[[Any], str | None]:
    return lambda value: None if value in allowed else f"must be one of {', '.join(allowed)}"


def _positive(value: int) -> str | None:
    return None if value > 0 else "must be a positive number"


def _host_port(value: str) -> str | None:
    host, _, port = value.rpartition(":")
    if value == "" or (host and port.isdigit() and 0 < int(port) < 65536):
        return None
    return "must be host:port"


def _robot_prefix(value: str) -> str | None:
    # Basic credentials split at the first ':'; a prefix with blanks could not be typed in a login.
    if 0 < len(value) <= 30 and not any(c.isspace() or c == ":" for c in value):
        return None
    return "must be 1 to 30 characters without blanks or ':'"


@dataclass(frozen=True)
class Item:
    kind: type
    default: Any
    editable: bool = True
    check: Callable[[Any], str | None] | None = None


ITEMS: dict[str, Item] = {
    "auth_mode": Item(str, "db_auth", editable=False),  # the database is the only user source
    "self_registration": Item(bool, False, editable=False),  # users are created by admins only
    "project_creation_restriction": Item(str, "everyone", check=_one_of("everyone", "adminonly")),
    "read_only": Item(bool, False),
    "robot_token_duration": Item(int, 30, check=_positive),  # days, for robots created without one
    # Robots are recognised at login by it: those named with an earlier prefix no longer log in (Harbor).
    "robot_name_prefix": Item(str, "robot$", check=_robot_prefix),
    "audit_log_forward_endpoint": Item(str, "", check=_host_port),
    "skip_audit_log_database": Item(bool, False),
    "pull_audit_log_disable": Item(bool, False),
}


def current() -> dict[str, Any]:
    """Every item's value: what was set, else its default."""
    stored = store.values()
    return {name: item.kind(stored[name]) if name in stored else item.default for name, item in ITEMS.items()}


def shown() -> dict[str, dict[str, Any]]:
    """Harbor's ConfigurationsResponse: each item's value and whether it may be changed."""
    return {name: {"value": value, "editable": ITEMS[name].editable} for name, value in current().items()}


def update(changes: dict[str, Any]) -> None:
    """Change some items; 400 (and nothing changed) when any is unknown, read-only, of the wrong type or
    refused by its check, or when an audit log endpoint does not answer."""
    for name, value in changes.items():
        _validate(name, value)
    before = current()
    after = {**before, **changes}
    if after["skip_audit_log_database"] and not after["audit_log_forward_endpoint"]:
        raise harbor_error("BAD_REQUEST", _NO_ENDPOINT)
    endpoint = changes.get("audit_log_forward_endpoint")
    if endpoint and endpoint != before["audit_log_forward_endpoint"]:
        _dial(endpoint)
    if changes:
        store.update(changes)


def _validate(name: str, value: Any) -> None:
    item = ITEMS.get(name)
    if item is None:
        raise harbor_error("BAD_REQUEST", f"unknown configuration item: {name[:100]}")
    if not item.editable:
        raise harbor_error("BAD_REQUEST", f"the configuration item {name} cannot be changed")
    if not isinstance(value, item.kind) or (item.kind is int and isinstance(value, bool)):
        raise harbor_error("BAD_REQUEST", f"{name} must be a {item.kind.__name__}")
    problem = item.check(value) if item.check else None
    if problem:
        raise harbor_error("BAD_REQUEST", f"{name} {problem}")


def _dial(endpoint: str) -> None:
    """Harbor dials a new audit log endpoint (TCP syslog) before taking it; so do we, before saving."""
    host, _, port = endpoint.rpartition(":")
    try:
        socket.create_connection((host, int(port)), timeout=_DIAL_TIMEOUT_SECONDS).close()
    except OSError:
        raise harbor_error("BAD_REQUEST", f"could not connect to the audit endpoint: {endpoint}") from None


def require_writable() -> None:
    """Harbor's read-only mode: every modification is refused (DENIED), on /v2/ and the API alike."""
    if current()["read_only"]:
        raise DomainError("DENIED", READ_ONLY_MESSAGE)


def only_admins_create_projects() -> bool:
    return current()["project_creation_restriction"] == "adminonly"


def robot_token_duration() -> int:
    return int(current()["robot_token_duration"])


def robot_name_prefix() -> str:
    return str(current()["robot_name_prefix"])
