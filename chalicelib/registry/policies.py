"""A project's pull policies, checked on every manifest GET and HEAD (as Harbor 2.6's contenttrust
and vulnerable middlewares are; blob pulls are not checked, in Harbor either):

- `enable_content_trust_cosign`: an artifact without a cosign signature is refused;
- `prevent_vul` with `severity`: an artifact that was never scanned, whose scan did not succeed, or
  whose findings (less the effective CVE allowlist) reach the severity is refused.

Refusals are 412 PROJECTPOLICYVIOLATION with Harbor's messages. The caller decides the bypass of
Harbor's SkipPolicyChecking (scanners, cosign signing); pulling a cosign signature itself is never
refused.
"""

from __future__ import annotations

from chalicelib import allowlists
from chalicelib.errors import DomainError
from chalicelib.projects import Project
from chalicelib.registry import formats, records
from chalicelib.scan import jobs, reports, scanners, severity
from chalicelib.store.manifests import ManifestRecord

_COSIGN = "signature.cosign"
_BY_ADMIN = "To continue with pull, please contact your project administrator for help."
_BY_ALLOWLIST = ("To continue with pull, please contact your project administrator to exempt matched "
                 "vulnerabilities through configuring the CVE allowlist.")


def _violation(message: str) -> DomainError:
    return DomainError("PROJECTPOLICYVIOLATION", message)


def check_pull(project: Project, repository: str, manifest: ManifestRecord, bypass: bool) -> None:
    """Raise when a policy of the project refuses the pull of this manifest (as the pull read it).
    Costs nothing when no policy is on."""
    cosign = project.metadata.get("enable_content_trust_cosign") == "true"
    prevent = project.metadata.get("prevent_vul") == "true"
    if bypass or not (cosign or prevent):
        return
    artifact = records.artifact_of(repository, manifest)
    if artifact.signature_of:  # a cosign signature is always pullable
        return
    if cosign and not any(a.accessory_type == _COSIGN for a in records.accessories_of(repository, artifact.digest)):
        raise _violation("The image is not signed in Cosign.")
    if prevent:
        _check_vulnerabilities(project, repository, artifact)


def _check_vulnerabilities(project: Project, repository: str, artifact: records.Artifact) -> None:
    registration = scanners.of_project(project)
    targets = jobs.targets(repository, artifact)
    if registration is None or not targets:
        return  # nothing here a scanner could scan: Harbor skips the check
    threshold = severity.normalise(project.metadata.get("severity"))
    policy = (f"configured policy in 'Prevent images with vulnerability severity of \"{threshold}\" or higher "
              "from running.'")
    allowed = allowlists.effective(project).allowed()
    found = _reports(registration.uuid, [t.digest for t in targets], links=bool(allowed))
    if not found:
        raise _violation(f"current image without vulnerability scanning cannot be pulled due to {policy} {_BY_ADMIN}")
    status = reports.merged_status([r.status for r in found])
    if status != reports.SUCCESS:
        raise _violation(f'current image with "{status}" status of vulnerability scanning cannot be pulled due to '
                         f"{policy} {_BY_ADMIN}")
    if artifact.manifest_media_type in formats.INDEX_TYPES:
        return  # an index of images is let through once scanned; its children are checked when pulled
    count, worst = _findings(found, allowed)
    if worst is not None and severity.rank(worst) >= severity.rank(threshold):
        thing = "vulnerabilities" if count > 1 else "vulnerability"
        raise _violation(f"current image with {count} {thing} cannot be pulled due to {policy} {_BY_ALLOWLIST}")


def _reports(scanner_uuid: str, digests: list[str], *, links: bool) -> list[reports.Report]:
    """The reports of the first MIME type that has any, native first (Harbor's GetVulnerable)."""
    found = reports.reports_of({(d, scanner_uuid) for d in digests}, [severity.NATIVE, severity.GENERIC], links=links)
    for mime in (severity.NATIVE, severity.GENERIC):
        of_type = [r for (_, report_mime), r in found.items() if report_mime == mime]
        if of_type:
            return of_type
    return []


def _findings(found: list[reports.Report], allowed: frozenset[str]) -> tuple[int, str | None]:
    """(how many findings are not allowlisted, the highest severity among them). The counts of the
    report's summary answer alone unless an allowlist must be subtracted."""
    if not allowed:
        counts = {name: n for r in found for name, n in r.summary.get("summary", {}).items() if n}
        return sum(counts.values()), (severity.overall(counts) if counts else None)
    items = [v for r in found for v in reports.vulnerabilities(r) if v["id"] not in allowed]
    return len(items), (severity.overall(v["severity"] for v in items) if items else None)
