"""Scanner registrations (semantics-2.6.md 2.2): the built-in Trivy and external adapters.

Kept by chalicelib/store/scanners.py. A project scans with the registration it chose while that
exists, else with the system default.
"""

from __future__ import annotations

import uuid
from typing import Any

from chalicelib import clock
from chalicelib.scan import adapter
from chalicelib.scan.severity import DOCKER_MANIFEST, OCI_MANIFEST, REPORT_TYPES
from chalicelib.store import scanners as store
from chalicelib.store.projects import Project
from chalicelib.store.scanners import (
    BUILTIN_URL,
    Registration,
    ScannerConflict,
    default_uuid,
    delete,
    get,
    list_all,
    set_default,
    set_for_project,
    update,
)

__all__ = ["BUILTIN_URL", "Registration", "ScannerConflict", "default_uuid", "delete", "get", "list_all",
           "set_default", "set_for_project", "update"]

BUILTIN_NAME = "Trivy"
BUILTIN_VENDOR = "Aqua Security"


def builtin_metadata(version: str) -> dict[str, Any]:
    """What the built-in Trivy answers as an adapter's /metadata would."""
    return {"scanner": {"name": BUILTIN_NAME, "vendor": BUILTIN_VENDOR, "version": version},
            "capabilities": [{"consumes_mime_types": [OCI_MANIFEST, DOCKER_MANIFEST],
                              "produces_mime_types": list(REPORT_TYPES)}],
            "properties": {"harbor.scanner-adapter/scanner-type": "os-package-vulnerability",
                           "harbor.scanner-adapter/vulnerability-database-source": "s3"}}


def endpoint(registration: Registration) -> adapter.Endpoint:
    """Where and how to call an external adapter."""
    return adapter.Endpoint(registration.url, registration.auth, registration.credential(),
                            registration.skip_cert_verify)


def metadata_of(registration: Registration, trivy_version: str) -> dict[str, Any]:
    if registration.builtin:
        return builtin_metadata(trivy_version)
    return adapter.metadata(endpoint(registration))


def create(name: str, url: str, *, description: str = "", auth: str = "", access_credential: str = "",
           skip_cert_verify: bool = False, use_internal_addr: bool = False, disabled: bool = False,
           immutable: bool = False, scanner: dict[str, Any] | None = None) -> Registration:
    """Register a scanner whose metadata was already validated; ScannerConflict on a taken name or URL."""
    now = clock.iso()
    info = (scanner or {}).get("scanner", {})
    produces = adapter.produced_types(scanner) if scanner else list(REPORT_TYPES)
    return store.create(Registration(str(uuid.uuid4()), name, url, description, auth, access_credential,
                                     skip_cert_verify, use_internal_addr, disabled, immutable, now, now,
                                     info.get("name", ""), info.get("vendor", ""), info.get("version", ""),
                                     produces))


def of_project(project: Project) -> Registration | None:
    """The project's scanner: its own choice while that registration exists, else the default."""
    chosen = store.chosen_by(project)
    registration = get(chosen) if chosen else None
    if registration is None:
        default = default_uuid()
        registration = get(default) if default else None
    return registration


def ensure_builtin(version: str) -> Registration:
    """The built-in Trivy, registered (and default when nothing is) on first start; its version
    follows the bundled binary."""
    existing = store.with_url(BUILTIN_URL)
    if existing is None:
        try:
            existing = create(BUILTIN_NAME, BUILTIN_URL, description="Trivy, run by this registry's scan function",
                              immutable=True, scanner=builtin_metadata(version))
        except ScannerConflict:  # a concurrent bootstrap won
            return ensure_builtin(version)
    elif existing.version != version:
        store.set_version(existing, version)
    if default_uuid() is None:
        set_default(existing)
    return existing
