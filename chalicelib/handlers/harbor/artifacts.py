"""/projects/{p}/repositories/{r}/artifacts: list, get, delete, tags and additions."""

from __future__ import annotations

from typing import Any

from chalicelib import labels, projects
from chalicelib.errors import DomainError, harbor_error
from chalicelib.handlers.harbor.context import ApiContext, bool_param, respond
from chalicelib.handlers.harbor.labels import label_json
from chalicelib.handlers.harbor.paging import list_headers, page_of, query_of, window
from chalicelib.handlers.harbor.repositories import find_artifact, find_repository, full_name
from chalicelib.handlers.http import HttpResponse
from chalicelib.registry import artifacts as artifact_info
from chalicelib.registry import records, service
from chalicelib.registry.names import project_of, validate_name, validate_reference, validate_tag
from chalicelib.scan import overview
from chalicelib.scan.severity import accepted_types

NEVER = "0001-01-01T00:00:00.000Z"  # Harbor's rendering of a time that never happened (pull_time)


def _base(project_name: str, repository: str, digest: str) -> str:
    encoded = repository.split("/", 1)[1].replace("/", "%252F")
    return f"/api/v2.0/projects/{project_name}/repositories/{encoded}/artifacts/{digest}"


def tag_json(tag: records.Tag, repository_id: int, artifact_id: int, signed: bool = False) -> dict[str, Any]:
    return {"id": tag.tag_id, "repository_id": repository_id, "artifact_id": artifact_id, "name": tag.name,
            "push_time": tag.push_time, "pull_time": NEVER, "immutable": False, "signed": signed}


def accessory_json(accessory: records.Artifact, subject: records.Artifact) -> dict[str, Any]:
    return {"id": accessory.artifact_id, "artifact_id": accessory.artifact_id,
            "subject_artifact_id": subject.artifact_id, "size": accessory.size, "digest": accessory.digest,
            "type": accessory.accessory_type, "icon": "", "creation_time": accessory.push_time}


def artifact_json(ctx: ApiContext, project: projects.Project, repository: records.Repository,
                  artifact: records.Artifact, label_ids: list[int] | None = None,
                  accessories: list[records.Artifact] | None = None,
                  scan_overview: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": artifact.artifact_id, "type": artifact.type, "media_type": artifact.media_type,
        "manifest_media_type": artifact.manifest_media_type, "project_id": project.project_id,
        "repository_id": repository.repository_id, "repository_name": repository.name, "digest": artifact.digest,
        "size": artifact.size, "icon": "", "push_time": artifact.push_time, "pull_time": artifact.pull_time or NEVER,
        "extra_attrs": artifact.extra_attrs, "annotations": artifact.annotations,
        "references": [{**ref, "parent_id": artifact.artifact_id} for ref in artifact.references],
        "addition_links": {},
    }
    if artifact.type == "IMAGE" and artifact.config_digest:
        base = _base(project.name, repository.name, artifact.digest)
        body["addition_links"] = {"build_history": {"href": f"{base}/additions/build_history", "absolute": False},
                                  "vulnerabilities": {"href": f"{base}/additions/vulnerabilities", "absolute": False}}
    request = ctx.request
    accessories = accessories or []
    if bool_param(request, "with_tag") is not False:
        signed = bool(bool_param(request, "with_signature")) and any(
            a.accessory_type == "signature.cosign" for a in accessories)
        body["tags"] = [tag_json(t, repository.repository_id, artifact.artifact_id, signed) for t in artifact.tags]
    if bool_param(request, "with_label"):
        found = (labels.get_label(label_id) for label_id in label_ids or [])
        body["labels"] = [label_json(label) for label in found if label]
    if bool_param(request, "with_scan_overview") and scan_overview:  # never scanned: no field at all, as Harbor
        body["scan_overview"] = scan_overview
    if bool_param(request, "with_accessory") is not False:  # Harbor's default: true
        body["accessories"] = [accessory_json(a, artifact) for a in accessories]
    return body


def _matches_tags(condition: Any, artifact: records.Artifact) -> bool:
    names = [t.name for t in artifact.tags]
    if condition.kind == "exact" and condition.values[0] == "nil":
        return not names
    if condition.kind == "exact" and condition.values[0] == "*":
        return bool(names)
    return any(condition.matches(name) for name in names) if condition.kind != "all" else condition.matches(names)


def list_artifacts(ctx: ApiContext, project_name: str, repository_name: str) -> HttpResponse:
    """The repository's own artifacts (records.listed), newest push first."""
    project, repository = find_repository(ctx, project_name, repository_name, ("artifact", "list"))
    page = page_of(ctx.request)
    conditions = query_of(ctx.request, ("tags", "digest", "type", "media_type"))
    fields = {"digest": lambda a: a.digest, "type": lambda a: a.type, "media_type": lambda a: a.media_type}

    def keep(artifact: records.Artifact) -> bool:
        return records.listed(artifact) and all(
            _matches_tags(c, artifact) if k == "tags" else c.matches(fields[k](artifact))
            for k, c in conditions.items())

    newest_first = sorted(records.iter_artifacts(repository.name), key=lambda a: a.push_time, reverse=True)
    accessories = records.accessories_by_subject(newest_first)
    selected, total = window(newest_first, page, keep)
    path = f"/api/v2.0/projects/{project_name}/repositories/{repository_name.replace('/', '%252F')}/artifacts"
    attached = labels.label_ids_by_digest(repository.name) if bool_param(ctx.request, "with_label") else {}
    scanned = _overviews(ctx, project, selected)
    return respond(200, [artifact_json(ctx, project, repository, a, attached.get(a.digest), accessories.get(a.digest),
                                       scanned.get(a.digest)) for a in selected],
                   list_headers(ctx.request, path, page, total))


def _overviews(ctx: ApiContext, project: projects.Project, selected: list[records.Artifact]) -> dict[str, Any]:
    if not bool_param(ctx.request, "with_scan_overview"):
        return {}
    return overview.overviews(project, selected, accepted_types(ctx.request.header("x-accept-vulnerabilities")))


def copy_artifact(ctx: ApiContext, project_name: str, repository_name: str) -> HttpResponse:
    """POST .../artifacts?from=<project>/<repository>(@<digest>|:<tag>): needs pull on the source."""
    project = ctx.project(project_name, ("artifact", "create"), by_name=True)
    target = full_name(project.name, repository_name)
    try:
        validate_name(target)
    except DomainError as error:
        raise harbor_error("BAD_REQUEST", f"invalid repository name: {target[:255]}") from error
    source = ctx.request.param("from") or ""
    repository, _, reference = source.rpartition("@") if "@" in source else source.rpartition(":")
    try:
        validate_name(repository)
        validate_reference(reference)
    except DomainError as error:
        raise harbor_error("BAD_REQUEST", "from must be <project>/<repository>@<digest> or ...:<tag>") from error
    ctx.project(project_of(repository), ("repository", "pull"), by_name=True)  # may the caller read it?
    found = records.get_artifact(repository, reference)
    if found is None:
        raise harbor_error("NOT_FOUND", f"artifact {source[:200]} not found")
    if found.accessory_of:
        raise DomainError("DENIED", "the operation isn't supported for an artifact accessory")
    digest = service.copy_artifact(project, repository, reference, target, found, ctx.principal.username)
    return respond(201, headers={"Location": f"{_base(project.name, target, digest)}"})


def get_artifact(ctx: ApiContext, project_name: str, repository_name: str, reference: str) -> HttpResponse:
    project, repository, artifact = find_artifact(ctx, project_name, repository_name, reference, ("artifact", "read"))
    attached = labels.label_ids_by_digest(repository.name) if bool_param(ctx.request, "with_label") else {}
    return respond(200, artifact_json(ctx, project, repository, artifact, attached.get(artifact.digest),
                                      records.accessories_of(repository.name, artifact.digest),
                                      _overviews(ctx, project, [artifact]).get(artifact.digest)))


def list_accessories(ctx: ApiContext, project_name: str, repository_name: str, reference: str) -> HttpResponse:
    _, repository, artifact = find_artifact(ctx, project_name, repository_name, reference, ("accessory", "list"))
    page = page_of(ctx.request)
    selected, total = window(records.accessories_of(repository.name, artifact.digest), page, lambda _: True)
    path = f"{_base(project_name, repository.name, reference)}/accessories"
    return respond(200, [accessory_json(a, artifact) for a in selected], list_headers(ctx.request, path, page, total))


def delete_artifact(ctx: ApiContext, project_name: str, repository_name: str, reference: str) -> HttpResponse:
    project, repository, artifact = find_artifact(ctx, project_name, repository_name, reference, ("artifact", "delete"))
    service.delete_artifact(project, repository.name, artifact.digest, ctx.principal.username)
    return respond(200)


def list_tags(ctx: ApiContext, project_name: str, repository_name: str, reference: str) -> HttpResponse:
    _, repository, artifact = find_artifact(ctx, project_name, repository_name, reference, ("tag", "list"))
    page = page_of(ctx.request)
    conditions = query_of(ctx.request, ("name",))
    selected, total = window(sorted(artifact.tags, key=lambda t: t.name), page,
                             lambda t: all(c.matches(t.name) for c in conditions.values()))
    path = f"{_base(project_name, repository.name, reference)}/tags"
    return respond(200, [tag_json(t, repository.repository_id, artifact.artifact_id) for t in selected],
                   list_headers(ctx.request, path, page, total))


def create_tag(ctx: ApiContext, project_name: str, repository_name: str, reference: str) -> HttpResponse:
    project, repository, artifact = find_artifact(ctx, project_name, repository_name, reference, ("tag", "create"))
    name = ctx.body().get("name")
    try:
        validate_tag(name if isinstance(name, str) else "")
    except DomainError as error:
        raise harbor_error("BAD_REQUEST", f"invalid tag name: {str(name)[:130]}") from error
    service.create_tag(project, repository.name, name, artifact.digest, ctx.principal.username)  # type: ignore[arg-type]
    return respond(201, headers={"Location": f"{_base(project_name, repository.name, reference)}/tags/{name}"})


def delete_tag(ctx: ApiContext, project_name: str, repository_name: str, reference: str,
               tag_name: str) -> HttpResponse:
    project, repository, artifact = find_artifact(ctx, project_name, repository_name, reference, ("tag", "delete"))
    if tag_name not in {t.name for t in artifact.tags}:
        raise harbor_error("NOT_FOUND", f"tag {tag_name[:130]} not found on {artifact.digest}")
    service.delete_tag(project, repository.name, tag_name, ctx.principal.username)
    return respond(200)


def addition(ctx: ApiContext, project_name: str, repository_name: str, reference: str,
             addition: str) -> HttpResponse:
    project, _, artifact = find_artifact(ctx, project_name, repository_name, reference, ("artifact-addition", "read"))
    if addition == "build_history" and artifact.type == "IMAGE" and artifact.config_digest:
        return respond(200, artifact_info.build_history(records.config_of(artifact) or b"{}"))
    if addition == "vulnerabilities":
        accepted = accepted_types(ctx.request.header("x-accept-vulnerabilities"))
        return respond(200, overview.vulnerabilities(project, artifact, accepted))
    raise harbor_error("NOT_FOUND", f"addition {addition[:40]} is not available for {artifact.digest}")


_ARTIFACT = "/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}"
ROUTES = [
    ("GET", "/projects/{project_name}/repositories/{repository_name}/artifacts", list_artifacts),
    ("POST", "/projects/{project_name}/repositories/{repository_name}/artifacts", copy_artifact),
    ("GET", _ARTIFACT, get_artifact),
    ("DELETE", _ARTIFACT, delete_artifact),
    ("GET", f"{_ARTIFACT}/tags", list_tags),
    ("GET", f"{_ARTIFACT}/accessories", list_accessories),
    ("POST", f"{_ARTIFACT}/tags", create_tag),
    ("DELETE", f"{_ARTIFACT}/tags/{{tag_name}}", delete_tag),
    ("GET", f"{_ARTIFACT}/additions/{{addition}}", addition),
]
