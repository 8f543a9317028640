"""/labels (global and project scope) and labels on artifacts."""

from __future__ import annotations

import re
from typing import Any

from chalicelib import inputs, labels, projects
from chalicelib.errors import harbor_error
from chalicelib.handlers.harbor.context import ApiContext, respond
from chalicelib.handlers.harbor.paging import list_headers, page_of, window
from chalicelib.handlers.harbor.repositories import find_artifact
from chalicelib.handlers.http import HttpResponse

_COLOR = re.compile(r"(#[0-9A-Fa-f]{6})?")


def label_json(label: labels.Label) -> dict[str, Any]:
    return {"id": label.label_id, "name": label.name, "description": label.description, "color": label.color,
            "scope": label.scope, "project_id": label.project_id, "creation_time": label.creation_time,
            "update_time": label.update_time, "deleted": False}


def _fields(body: dict[str, Any]) -> tuple[str, str, str]:
    name, description, color = body.get("name"), body.get("description", ""), body.get("color", "")
    if not isinstance(name, str) or not name.strip() or len(name) > 128:
        raise harbor_error("BAD_REQUEST", "label name is required, at most 128 characters")
    if not isinstance(description, str) or not isinstance(color, str) or not _COLOR.fullmatch(color):
        raise harbor_error("BAD_REQUEST", "description must be a string and color like #0095D3")
    return name.strip(), description, color


def _project_for(ctx: ApiContext, project_id: Any, action: str) -> projects.Project:
    if not (isinstance(project_id, int) and not isinstance(project_id, bool)) and inputs.decimal(project_id) is None:
        raise harbor_error("BAD_REQUEST", "a project label needs project_id")
    return ctx.project(str(project_id), ("label", action))


def _require(ctx: ApiContext, label: labels.Label, action: str) -> None:
    """Global labels: read by anyone signed in, changed by admins. Project labels: the project's RBAC."""
    if label.scope == "g" and action in ("read", "list"):
        ctx.require_authenticated()
    elif label.scope == "g":
        ctx.require_sysadmin()
    else:
        _project_for(ctx, label.project_id, action)


def _label(ctx: ApiContext, label_id: str, action: str) -> labels.Label:
    label = labels.get_label(number) if (number := inputs.decimal(label_id)) is not None else None
    if label is None:
        raise harbor_error("NOT_FOUND", f"label {label_id[:20]} not found")
    _require(ctx, label, action)
    return label


def create_label(ctx: ApiContext) -> HttpResponse:
    body = ctx.body()
    scope = body.get("scope", "g")
    if scope not in ("g", "p"):
        raise harbor_error("BAD_REQUEST", 'scope must be "g" (global) or "p" (project)')
    name, description, color = _fields(body)
    project_id = 0
    if scope == "g":
        ctx.require_sysadmin()
    else:
        project_id = _project_for(ctx, body.get("project_id"), "create").project_id
    label = labels.create_label(name, description, color, scope, project_id)
    return respond(201, headers={"Location": f"/api/v2.0/labels/{label.label_id}"})


def list_labels(ctx: ApiContext) -> HttpResponse:
    scope = ctx.request.param("scope") or "g"
    if scope not in ("g", "p"):
        raise harbor_error("BAD_REQUEST", 'scope must be "g" or "p"')
    project_id = 0
    if scope == "p":
        project_id = _project_for(ctx, ctx.request.param("project_id"), "list").project_id
    else:
        ctx.require_authenticated()
    page = page_of(ctx.request)
    name = (ctx.request.param("name") or "").lower()
    selected, total = window(labels.iter_labels(scope, project_id), page, lambda lb: name in lb.name.lower())
    return respond(200, [label_json(lb) for lb in selected], list_headers(ctx.request, "/api/v2.0/labels", page, total))


def get_label(ctx: ApiContext, label_id: str) -> HttpResponse:
    return respond(200, label_json(_label(ctx, label_id, "read")))


def update_label(ctx: ApiContext, label_id: str) -> HttpResponse:
    label = _label(ctx, label_id, "update")
    name, description, color = _fields(ctx.body())
    labels.update_label(label, name, description, color)
    return respond(200)


def delete_label(ctx: ApiContext, label_id: str) -> HttpResponse:
    labels.delete_label(_label(ctx, label_id, "delete"))
    return respond(200)


def attach_label(ctx: ApiContext, project_name: str, repository_name: str, reference: str) -> HttpResponse:
    project, repository, artifact = find_artifact(ctx, project_name, repository_name, reference,
                                                  ("artifact-label", "create"))
    label_id = ctx.body().get("id")
    label = labels.get_label(label_id) if isinstance(label_id, int) else None
    if label is None:
        raise harbor_error("NOT_FOUND", f"label {label_id} not found")
    if label.scope == "p" and label.project_id != project.project_id:
        raise harbor_error("BAD_REQUEST", f"label {label.name} belongs to another project")
    labels.attach(label, repository.name, artifact.digest)
    return respond(200)


def detach_label(ctx: ApiContext, project_name: str, repository_name: str, reference: str,
                 label_id: str) -> HttpResponse:
    _, repository, artifact = find_artifact(ctx, project_name, repository_name, reference, ("artifact-label", "delete"))
    attached = labels.label_ids_by_digest(repository.name).get(artifact.digest, [])
    if inputs.decimal(label_id) not in attached:
        raise harbor_error("NOT_FOUND", f"label {label_id[:20]} is not on the artifact")
    labels.detach(int(label_id), repository.name, artifact.digest)
    return respond(200)


_ARTIFACT = "/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}"
ROUTES = [
    ("GET", "/labels", list_labels), ("POST", "/labels", create_label),
    ("GET", "/labels/{label_id}", get_label), ("PUT", "/labels/{label_id}", update_label),
    ("DELETE", "/labels/{label_id}", delete_label),
    ("POST", f"{_ARTIFACT}/labels", attach_label), ("DELETE", f"{_ARTIFACT}/labels/{{label_id}}", detach_label),
]
