"""The /v2/ path grammar: repository names, references and the route a path addresses.

API Gateway hands the whole path after /v2/ to one greedy route; this module turns it into a
typed Route or raises NAME_INVALID. A name is checked here before anything touches storage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from chalicelib.errors import DomainError
from chalicelib.registry.digests import is_digest, parse_digest

_COMPONENT = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*"
_NAME = re.compile(rf"{_COMPONENT}(?:/{_COMPONENT})+")
_TAG = re.compile(r"[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}")
NAME_MAX_LENGTH = 255

# Longest suffix wins: "<name>/blobs/uploads/<id>" before "<name>/blobs/<digest>".
_ROUTES = (
    ("upload", re.compile(r"(?P<name>.+)/blobs/uploads(?:/(?P<ref>[^/]*))?")),
    ("blob", re.compile(r"(?P<name>.+)/blobs/(?P<ref>[^/]+)")),
    ("manifest", re.compile(r"(?P<name>.+)/manifests/(?P<ref>[^/]+)")),
    ("tags", re.compile(r"(?P<name>.+)/tags/list")),
    ("referrers", re.compile(r"(?P<name>.+)/referrers/(?P<ref>[^/]+)")),
)


@dataclass(frozen=True)
class Route:
    kind: str  # upload | blob | manifest | tags | referrers
    name: str
    ref: str

    @property
    def project(self) -> str:
        return project_of(self.name)


def validate_name(name: str) -> str:
    if len(name) > NAME_MAX_LENGTH or not _NAME.fullmatch(name):
        raise DomainError(
            "NAME_INVALID",
            "repository name must be <project>/<repository>[/...] of lower-case alphanumeric "
            "components separated by '.', '_', '__' or '-'",
            detail={"name": name[:NAME_MAX_LENGTH]},
        )
    return name


def project_of(name: str) -> str:
    return name.split("/", 1)[0]


def validate_tag(tag: str) -> str:
    if not _TAG.fullmatch(tag):
        raise DomainError("MANIFEST_INVALID", "invalid tag", detail={"tag": tag[:128]})
    return tag


def validate_reference(ref: str) -> str:
    """A manifest reference: a tag or a digest."""
    if ":" in ref:
        return parse_digest(ref)
    return validate_tag(ref)


def parse_route(path: str) -> Route:
    """Parse the part of a /v2/ path after '/v2/' into a Route."""
    for kind, pattern in _ROUTES:
        match = pattern.fullmatch(path)
        if match:
            ref = match.groupdict().get("ref") or ""
            if kind in ("blob", "referrers"):
                ref = parse_digest(ref)
            elif kind == "manifest" and not is_digest(ref):
                ref = validate_reference(ref)
            return Route(kind, validate_name(match["name"]), ref)
    raise DomainError("NAME_INVALID", "no such registry endpoint or invalid repository name",
                        detail={"path": path[:NAME_MAX_LENGTH]})
