"""The /v2/ endpoint: authenticate, authorize in the service layer, dispatch by route and method."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property

from chalicelib import configurations
from chalicelib.auth import service as auth
from chalicelib.auth.access import Principal, token_allows
from chalicelib.errors import DomainError
from chalicelib.handlers.errors import upload_progress
from chalicelib.handlers.http import HttpRequest, HttpResponse
from chalicelib.projects import Project
from chalicelib.registry import blobs, listing, manifests, service, uploads
from chalicelib.registry.digests import is_digest, parse_digest
from chalicelib.registry.names import Route, parse_route, validate_name, validate_tag

API_VERSION_HEADER = {"Docker-Distribution-API-Version": "registry/2.0"}
_ACTIONS = {"GET": "pull", "HEAD": "pull", "POST": "push", "PUT": "push", "PATCH": "push", "DELETE": "delete"}


def handle(request: HttpRequest) -> HttpResponse:
    """Answer one /v2/ request; DomainError carries every refusal."""
    authorization = request.header("authorization")
    path = request.path
    if path == "":
        auth.require_login(auth.authenticate(authorization))
        return HttpResponse(200, {"Content-Type": "application/json"}, "{}")
    if path == "_catalog":
        auth.require_catalog(auth.authenticate(authorization))
        return _page(listing.catalog(listing.page_size(request.param("n")), request.param("last")),
                     "repositories", None)
    route = parse_route(path)
    if request.method not in _ACTIONS:
        raise DomainError("UNSUPPORTED", f"{request.method} is not supported here")
    writes = _ACTIONS[request.method] != "pull"
    action = "push" if route.kind == "upload" else _ACTIONS[request.method]
    handler = _HANDLERS.get((route.kind, request.method, bool(route.ref) or route.kind != "upload"))
    # Authentication and read-only mode read within the prefetch: a Basic pull makes one round trip.
    with service.reading(route.name, route.kind, route.ref, pull=action == "pull",
                         configuration=writes or auth.reads_configuration(authorization)):
        principal = auth.authenticate(authorization)
        if writes:
            configurations.require_writable()
        checked = auth.require_repository(principal, route.name, action)
        if handler is None:
            raise DomainError("UNSUPPORTED", f"{request.method} is not supported on {route.kind}")
        call = Call(request, route, principal, checked)
        if action == "push":
            service.require_pushable(call.project, principal.username)
        return handler(call)


@dataclass
class Call:
    """One authorized repository request. The project is read once, and only by the handlers that
    need it (authorization by token reads nothing)."""

    request: HttpRequest
    route: Route
    principal: Principal
    checked_project: Project | None

    @cached_property
    def project(self) -> Project:
        return self.checked_project or auth.require_project(self.route.name)


def _page(page: listing.Page, field: str, name: str | None) -> HttpResponse:
    body: dict[str, object] = {"name": name, field: page.names} if name else {field: page.names}
    headers = {"Content-Type": "application/json"}
    if page.next_link:
        headers["Link"] = page.next_link
    return HttpResponse(200, headers, json.dumps(body))


def _tags(call: Call) -> HttpResponse:
    page = service.tags(call.project, call.route.name, listing.page_size(call.request.param("n")),
                        call.request.param("last"))
    return _page(page, "tags", call.route.name)


def _referrers(call: Call) -> HttpResponse:
    artifact_type = call.request.param("artifactType")
    headers = {"Content-Type": "application/vnd.oci.image.index.v1+json"}
    if artifact_type is not None:
        headers["OCI-Filters-Applied"] = "artifactType"
    return HttpResponse(200, headers, json.dumps(listing.referrers(call.route.name, call.route.ref, artifact_type)))


def _manifest_headers(digest: str, media_type: str, size: int) -> dict[str, str]:
    return {"Content-Type": media_type, "Docker-Content-Digest": digest, "ETag": f'"{digest}"',
            "Content-Length": str(size)}


def _get_manifest(call: Call) -> HttpResponse:
    name, reference = call.route.name, call.route.ref
    with_body = call.request.method == "GET"
    found = service.pull_manifest(call.project, name, reference, call.request.header_values("accept"),
                                  with_body=with_body, skip_policies=_policy_bypass(call),
                                  username=call.principal.username)
    body = found.body.decode() if found.body is not None else ""
    return HttpResponse(200, _manifest_headers(found.digest, found.media_type, found.size), body)


def _policy_bypass(call: Call) -> bool:
    """Harbor's SkipPolicyChecking: a token holding scanner-pull (a scanner), or push with a cosign
    User-Agent (cosign reads the manifest it is about to sign)."""
    principal, project, name = call.principal, call.project, call.route.name
    cosign = "cosign" in (call.request.header("user-agent") or "")
    return auth.holds(principal, project, name, "scanner-pull") or (
        cosign and auth.holds(principal, project, name, "push"))


def _put_manifest(call: Call) -> HttpResponse:
    name, reference = call.route.name, call.route.ref
    tags = _tag_parameters(call) if is_digest(reference) else []
    digest, subject = service.push_manifest(call.project, name, reference, call.request.header("content-type") or "",
                                            call.request.body, tags, call.principal.username, call.request.base_url)
    headers: dict[str, str | list[str]] = {"Location": f"/v2/{name}/manifests/{digest}",
                                           "Docker-Content-Digest": digest}
    if subject:
        headers["OCI-Subject"] = subject
    if tags:
        headers["OCI-Tag"] = tags  # one header per tag (distribution-spec 1.1)
    return HttpResponse(201, headers)


def _tag_parameters(call: Call) -> list[str]:
    """The `tag` query parameters of a PUT by digest (distribution-spec 1.1), each a valid tag."""
    tags = list(dict.fromkeys(call.request.params("tag")))
    if len(tags) > manifests.MAX_TAGS_PER_PUT:
        raise DomainError("TAG_INVALID", f"at most {manifests.MAX_TAGS_PER_PUT} tags per request")
    return [validate_tag(tag) for tag in tags]


def _delete_manifest(call: Call) -> HttpResponse:
    name, reference = call.route.name, call.route.ref
    service.delete_reference(call.project, name, reference, call.principal.username)
    return HttpResponse(202)


def _blob_headers(digest: str, size: int) -> dict[str, str]:
    # No Content-Type: Chalice refuses a binary type in the answer unless the request's Accept
    # names one, and docker sends no Accept on blob requests (DESIGN.md, known traps).
    return {"Docker-Content-Digest": digest, "Content-Length": str(size), "ETag": f'"{digest}"'}


def _head_blob(call: Call) -> HttpResponse:
    return HttpResponse(200, _blob_headers(call.route.ref, service.blob_size(call.project, call.route.name,
                                                                             call.route.ref)))


def _get_blob(call: Call) -> HttpResponse:
    url = service.blob_url(call.project, call.route.name, call.route.ref)
    return HttpResponse(307, {"Location": url, "Docker-Content-Digest": call.route.ref})


def _delete_blob(call: Call) -> HttpResponse:
    blobs.unlink(call.route.name, call.route.ref)
    return HttpResponse(202)


def _created(name: str, digest: str) -> HttpResponse:
    return HttpResponse(201, {"Location": f"/v2/{name}/blobs/{digest}", "Docker-Content-Digest": digest})


def _start_upload(call: Call) -> HttpResponse:
    mount, source = call.request.param("mount"), call.request.param("from")
    if mount and source:
        digest = parse_digest(mount)
        if _may_pull(call, validate_name(source)) and blobs.mount(call.route.name, digest, source) is not None:
            return _created(call.route.name, digest)
    digest_param = call.request.param("digest")
    if digest_param:
        digest = parse_digest(digest_param)
        blobs.put_monolithic(call.route.name, digest, call.request.body)
        return _created(call.route.name, digest)
    session = uploads.start(call.route.name)
    return HttpResponse(202, {**_progress(session), "Content-Length": "0"})


def _progress(session: uploads.Session) -> dict[str, str]:
    return upload_progress(session.name, session.upload_id, session.offset)


def _may_pull(call: Call, source: str) -> bool:
    """Mounting needs pull on the source. A token without it is answered 401 with a challenge for both
    scopes, as distribution does, so the client can get a token that mounts; a caller who simply
    lacks the right gets a normal upload."""
    principal = call.principal
    if principal.granted is not None and not token_allows(principal, "repository", source, "pull"):
        target = auth.repository_scope(call.route.name, "push")
        raise auth.denied(principal, source, "pull", target, auth.repository_scope(source, "pull"),
                          bearer=True)
    try:
        auth.require_repository(principal, source, "pull")
    except DomainError:
        return False
    return True


def _upload_status(call: Call) -> HttpResponse:
    session = uploads.load(call.route.name, call.route.ref)
    return HttpResponse(204, _progress(session))


def _patch_upload(call: Call) -> HttpResponse:
    session = uploads.load(call.route.name, call.route.ref)
    uploads.check_range(session, call.request.header("content-range"), len(call.request.body))
    session = uploads.append(session, call.request.body)
    return HttpResponse(202, _progress(session))


def _finish_upload(call: Call) -> HttpResponse:
    session = uploads.load(call.route.name, call.route.ref)
    digest = parse_digest(call.request.param("digest") or "")
    if call.request.body:
        uploads.check_range(session, call.request.header("content-range"), len(call.request.body))
    uploads.finish(session, digest, call.request.body)
    return _created(call.route.name, digest)


def _cancel_upload(call: Call) -> HttpResponse:
    uploads.cancel(uploads.load(call.route.name, call.route.ref))
    return HttpResponse(204)


# (route kind, method, has a reference) -> handler
_HANDLERS = {
    ("tags", "GET", True): _tags,
    ("referrers", "GET", True): _referrers,
    ("manifest", "GET", True): _get_manifest,
    ("manifest", "HEAD", True): _get_manifest,
    ("manifest", "PUT", True): _put_manifest,
    ("manifest", "DELETE", True): _delete_manifest,
    ("blob", "GET", True): _get_blob,
    ("blob", "HEAD", True): _head_blob,
    ("blob", "DELETE", True): _delete_blob,
    ("upload", "POST", False): _start_upload,
    ("upload", "GET", True): _upload_status,
    ("upload", "PATCH", True): _patch_upload,
    ("upload", "PUT", True): _finish_upload,
    ("upload", "DELETE", True): _cancel_upload,
}
