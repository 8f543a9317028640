"""The /v2/ endpoint: authenticate, authorize in the service layer, dispatch by route and method."""

from __future__ import annotations

import json

from chalicelib.audit import log as audit
from chalicelib.auth import service as auth
from chalicelib.auth.access import Principal
from chalicelib.errors import ServiceError
from chalicelib.http import HttpRequest, HttpResponse
from chalicelib.registry import blobs, listing, manifests, uploads
from chalicelib.registry.digests import is_digest, parse_digest
from chalicelib.registry.names import Route, parse_route, validate_name
from chalicelib.scan import jobs

API_VERSION_HEADER = {"Docker-Distribution-API-Version": "registry/2.0"}
_ACTIONS = {"GET": "pull", "HEAD": "pull", "POST": "push", "PUT": "push", "PATCH": "push", "DELETE": "delete"}


def handle(request: HttpRequest) -> HttpResponse:
    """Answer one /v2/ request; ServiceError carries every refusal."""
    principal = auth.authenticate(request.header("authorization"), request.base_url)
    path = request.path
    if path == "":
        auth.require_login(principal, request.base_url)
        return HttpResponse(200, {"Content-Type": "application/json"}, "{}")
    if path == "_catalog":
        auth.require_catalog(principal, request.base_url)
        return _page(listing.catalog(listing.page_size(request.param("n")), request.param("last")),
                     "repositories", None)
    route = parse_route(path)
    if request.method not in _ACTIONS:
        raise ServiceError("UNSUPPORTED", f"{request.method} is not supported here")
    action = "push" if route.kind == "upload" else _ACTIONS[request.method]
    auth.require_repository(principal, route.name, action, request.base_url)
    handler = _HANDLERS.get((route.kind, request.method, bool(route.ref) or route.kind != "upload"))
    if handler is None:
        raise ServiceError("UNSUPPORTED", f"{request.method} is not supported on {route.kind}")
    return handler(request, route, principal)


def _page(page: listing.Page, field: str, name: str | None) -> HttpResponse:
    body: dict[str, object] = {"name": name, field: page.names} if name else {field: page.names}
    headers = {"Content-Type": "application/json"}
    if page.next_link:
        headers["Link"] = page.next_link
    return HttpResponse(200, headers, json.dumps(body))


def _tags(request: HttpRequest, route: Route, _: Principal) -> HttpResponse:
    page = listing.tags(route.name, listing.page_size(request.param("n")), request.param("last"))
    return _page(page, "tags", route.name)


def _referrers(request: HttpRequest, route: Route, _: Principal) -> HttpResponse:
    artifact_type = request.param("artifactType")
    headers = {"Content-Type": "application/vnd.oci.image.index.v1+json"}
    if artifact_type is not None:
        headers["OCI-Filters-Applied"] = "artifactType"
    return HttpResponse(200, headers, json.dumps(listing.referrers(route.name, route.ref, artifact_type)))


def _manifest_headers(digest: str, media_type: str, size: int) -> dict[str, str]:
    return {"Content-Type": media_type, "Docker-Content-Digest": digest, "ETag": f'"{digest}"',
            "Content-Length": str(size)}


def _get_manifest(request: HttpRequest, route: Route, principal: Principal) -> HttpResponse:
    with_body = request.method == "GET"
    found = manifests.get(route.name, route.ref, request.header_values("accept"), with_body=with_body)
    if with_body:  # a pull is a manifest GET; HEAD is not
        manifests.record_pull(route.name, found.digest, route.ref, principal.username)
    body = found.body.decode() if found.body is not None else ""
    return HttpResponse(200, _manifest_headers(found.digest, found.media_type, found.size), body)


def _put_manifest(request: HttpRequest, route: Route, principal: Principal) -> HttpResponse:
    digest, subject = manifests.put(route.name, route.ref, request.header("content-type") or "", request.body)
    audit.record(route.project, "create", "artifact", f"{route.name}:{route.ref}", principal.username)
    jobs.on_push(route.project, route.name, digest, request.base_url)
    headers = {"Location": f"/v2/{route.name}/manifests/{digest}", "Docker-Content-Digest": digest}
    if subject:
        headers["OCI-Subject"] = subject
    return HttpResponse(201, headers)


def _delete_manifest(_: HttpRequest, route: Route, principal: Principal) -> HttpResponse:
    manifests.delete(route.name, route.ref)
    resource_type = "artifact" if is_digest(route.ref) else "tag"
    audit.record(route.project, "delete", resource_type, f"{route.name}:{route.ref}", principal.username)
    return HttpResponse(202)


def _blob_headers(digest: str, size: int) -> dict[str, str]:
    # No Content-Type: Chalice refuses a binary type in the answer unless the request's Accept
    # names one, and docker sends no Accept on blob requests (DESIGN.md, known traps).
    return {"Docker-Content-Digest": digest, "Content-Length": str(size), "ETag": f'"{digest}"'}


def _head_blob(_: HttpRequest, route: Route, __: Principal) -> HttpResponse:
    return HttpResponse(200, _blob_headers(route.ref, blobs.linked_size(route.name, route.ref)))


def _get_blob(_: HttpRequest, route: Route, __: Principal) -> HttpResponse:
    url, _size = blobs.download_url(route.name, route.ref)
    return HttpResponse(307, {"Location": url, "Docker-Content-Digest": route.ref})


def _delete_blob(_: HttpRequest, route: Route, __: Principal) -> HttpResponse:
    blobs.unlink(route.name, route.ref)
    return HttpResponse(202)


def _created(name: str, digest: str) -> HttpResponse:
    return HttpResponse(201, {"Location": f"/v2/{name}/blobs/{digest}", "Docker-Content-Digest": digest})


def _start_upload(request: HttpRequest, route: Route, principal: Principal) -> HttpResponse:
    mount, source = request.param("mount"), request.param("from")
    if mount and source:
        digest = parse_digest(mount)
        if _may_pull(principal, source, request.base_url) and blobs.mount(route.name, digest, source) is not None:
            return _created(route.name, digest)
    digest_param = request.param("digest")
    if digest_param:
        digest = parse_digest(digest_param)
        blobs.put_monolithic(route.name, digest, request.body)
        return _created(route.name, digest)
    session = uploads.start(route.name)
    return HttpResponse(202, {**uploads.progress_headers(session), "Content-Length": "0"})


def _may_pull(principal: Principal, source: str, base_url: str) -> bool:
    """Mounting needs pull on the source; without it the client just gets a normal upload."""
    try:
        auth.require_repository(principal, validate_name(source), "pull", base_url)
    except ServiceError:
        return False
    return True


def _upload_status(_: HttpRequest, route: Route, __: Principal) -> HttpResponse:
    session = uploads.load(route.name, route.ref)
    return HttpResponse(204, uploads.progress_headers(session))


def _patch_upload(request: HttpRequest, route: Route, _: Principal) -> HttpResponse:
    session = uploads.load(route.name, route.ref)
    uploads.check_range(session, request.header("content-range"), len(request.body))
    session = uploads.append(session, request.body)
    return HttpResponse(202, uploads.progress_headers(session))


def _finish_upload(request: HttpRequest, route: Route, _: Principal) -> HttpResponse:
    session = uploads.load(route.name, route.ref)
    digest = parse_digest(request.param("digest") or "")
    if request.body:
        uploads.check_range(session, request.header("content-range"), len(request.body))
    uploads.finish(session, digest, request.body)
    return _created(route.name, digest)


def _cancel_upload(_: HttpRequest, route: Route, __: Principal) -> HttpResponse:
    uploads.cancel(uploads.load(route.name, route.ref))
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
