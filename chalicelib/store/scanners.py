"""Scanner registrations: each at PK=SCANNERS, SK=<uuid> (its access credential is a SecureString
parameter <SCANNER_CREDENTIALS_PATH>/<uuid>, never in the table); uniqueness pointers
PK=SCANNERNAME#<name> and PK=SCANNERURL#<url>; the system default at PK=SCANNERDEFAULT; a project's
choice at PK=PROJECT#<project id>, SK=SCANNER (removed with the project's partition)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from chalicelib.config import settings
from chalicelib.errors import Conflict
from chalicelib.store import metadata, parameters
from chalicelib.store.projects import Project, project_partition

SCANNERS = "SCANNERS"
_DEFAULT = ("SCANNERDEFAULT", "SCANNER")
BUILTIN_URL = "builtin://trivy"  # runs in this deployment's scan function, not over HTTP


class ScannerConflict(Conflict):
    """The name or URL is already registered."""

    def __init__(self, registration: Registration) -> None:
        super().__init__(f"conflict: a scanner named {registration.name} or at {registration.url} already exists")


@dataclass(frozen=True)
class Registration:
    uuid: str
    name: str
    url: str
    description: str = ""
    auth: str = ""
    access_credential: str = ""  # set when given by a request; stored ones are read on use (credential())
    skip_cert_verify: bool = False
    use_internal_addr: bool = False
    disabled: bool = False
    immutable: bool = False
    create_time: str = ""
    update_time: str = ""
    # From the adapter's metadata when it was registered.
    adapter_name: str = ""
    vendor: str = ""
    version: str = ""
    produces: list[str] = field(default_factory=list)
    credential_stored: bool = False

    @property
    def builtin(self) -> bool:
        return self.url == BUILTIN_URL

    def credential(self) -> str:
        if self.access_credential or not self.credential_stored:
            return self.access_credential
        return parameters.get_secret(_credential_parameter(self.uuid)) or ""

    @property
    def scanner(self) -> dict[str, str]:
        return {"name": self.adapter_name, "vendor": self.vendor, "version": self.version}


def _credential_parameter(registration_uuid: str) -> str:
    return f"{settings().scanner_credentials_path}/{registration_uuid}"


def _store_credential(registration: Registration) -> Registration:
    """Keep the credential encrypted in SSM (or drop the stored one when it was cleared)."""
    if registration.access_credential:
        parameters.put_secret(_credential_parameter(registration.uuid), registration.access_credential)
    else:
        parameters.delete_secret(_credential_parameter(registration.uuid))
    return replace(registration, credential_stored=bool(registration.access_credential))


def _item(r: Registration) -> metadata.Item:
    return {"PK": SCANNERS, "SK": r.uuid, "name": r.name, "url": r.url, "description": r.description,
            "auth": r.auth, "credential_stored": r.credential_stored, "skip_cert_verify": r.skip_cert_verify,
            "use_internal_addr": r.use_internal_addr, "disabled": r.disabled, "immutable": r.immutable,
            "create_time": r.create_time, "update_time": r.update_time, "adapter_name": r.adapter_name,
            "vendor": r.vendor, "version": r.version, "produces": r.produces}


def _registration(item: metadata.Item) -> Registration:
    return Registration(
        item["SK"], item["name"], item["url"], item.get("description", ""), item.get("auth", ""),
        "", bool(item.get("skip_cert_verify")), bool(item.get("use_internal_addr")),
        bool(item.get("disabled")), bool(item.get("immutable")), item.get("create_time", ""),
        item.get("update_time", ""), item.get("adapter_name", ""), item.get("vendor", ""), item.get("version", ""),
        list(item.get("produces") or []), bool(item.get("credential_stored")))


def _pointer_ops(r: Registration) -> list[metadata.Write]:
    return [metadata.put_op({"PK": f"SCANNERNAME#{r.name}", "SK": "SCANNER", "uuid": r.uuid}, if_absent=True),
            metadata.put_op({"PK": f"SCANNERURL#{r.url}", "SK": "SCANNER", "uuid": r.uuid}, if_absent=True)]


def create(registration: Registration) -> Registration:
    """Store a new registration (its credential in SSM); ScannerConflict on a taken name or URL."""
    if registration.access_credential:
        registration = _store_credential(registration)
    try:
        metadata.transact([metadata.put_op(_item(registration), if_absent=True), *_pointer_ops(registration)])
    except metadata.ConditionFailed as error:
        parameters.delete_secret(_credential_parameter(registration.uuid))
        raise ScannerConflict(registration) from error
    return registration


def update(old: Registration, new: Registration) -> None:
    """Replace a registration; the name and URL pointers move with it."""
    new = _store_credential(new)
    operations = [metadata.put_op(_item(new))]
    if new.name != old.name:
        operations += [metadata.delete_op(f"SCANNERNAME#{old.name}", "SCANNER"), _pointer_ops(new)[0]]
    if new.url != old.url:
        operations += [metadata.delete_op(f"SCANNERURL#{old.url}", "SCANNER"), _pointer_ops(new)[1]]
    try:
        metadata.transact(operations)
    except metadata.ConditionFailed as error:
        raise ScannerConflict(new) from error


def delete(registration: Registration) -> None:
    metadata.transact([metadata.delete_op(SCANNERS, registration.uuid),
                       metadata.delete_op(f"SCANNERNAME#{registration.name}", "SCANNER"),
                       metadata.delete_op(f"SCANNERURL#{registration.url}", "SCANNER")])
    parameters.delete_secret(_credential_parameter(registration.uuid))


def get(registration_uuid: str) -> Registration | None:
    item = metadata.get(SCANNERS, registration_uuid)
    return _registration(item) if item else None


def list_all() -> list[Registration]:
    return [_registration(i) for i in metadata.iterate(SCANNERS)]


def default_uuid() -> str | None:
    item = metadata.get(*_DEFAULT)
    return item["uuid"] if item else None


def set_default(registration: Registration) -> None:
    metadata.put({"PK": _DEFAULT[0], "SK": _DEFAULT[1], "uuid": registration.uuid})


def chosen_by(project: Project) -> str | None:
    """The uuid of the registration the project chose, if it chose one."""
    item = metadata.get(project_partition(project), "SCANNER")
    return item["uuid"] if item else None


def set_for_project(project: Project, registration: Registration) -> None:
    metadata.put({"PK": project_partition(project), "SK": "SCANNER", "uuid": registration.uuid})


def with_url(url: str) -> Registration | None:
    pointer = metadata.get(f"SCANNERURL#{url}", "SCANNER")
    return get(pointer["uuid"]) if pointer else None


def set_version(registration: Registration, version: str) -> None:
    metadata.set_fields(SCANNERS, registration.uuid, {"version": version})
