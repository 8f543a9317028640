"""Content discovery: tag lists, the catalog and the referrers index, paged in the database."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from chalicelib import inputs
from chalicelib.errors import DomainError
from chalicelib.registry.formats import OCI_INDEX
from chalicelib.store import manifests, repositories

MAX_PAGE = 1000


@dataclass(frozen=True)
class Page:
    names: list[str]
    next_link: str | None  # the RFC 5988 Link header value for the next page


def page_size(raw: str | None) -> int:
    if raw is None or raw == "":
        return MAX_PAGE
    number = inputs.decimal(raw)
    if number is None:
        raise DomainError("PAGINATION_NUMBER_INVALID", detail={"n": raw[:20]})
    return min(number, MAX_PAGE)


def _link(path: str, n: int, last: str) -> str:
    return f'<{path}?{urlencode({"n": n, "last": last})}>; rel="next"'


def tags(name: str, n: int, last: str | None) -> Page:
    if n == 0:
        return Page([], None)
    names, more = manifests.tag_page(name, n, last)
    if not names and not last and repositories.get_repository(name) is None:
        raise DomainError("NAME_UNKNOWN", detail={"name": name})
    return Page(names, _link(f"/v2/{name}/tags/list", n, names[-1]) if more else None)


def page_of(name: str, names: list[str], n: int, last: str | None) -> Page:
    """A page of a tag list held whole (a proxy cache's upstream answered it), as `tags` pages the table's."""
    after = sorted(t for t in names if last is None or t > last)
    return Page(after[:n], _link(f"/v2/{name}/tags/list", n, after[n - 1]) if len(after) > n > 0 else None)


def catalog(n: int, last: str | None) -> Page:
    if n == 0:
        return Page([], None)
    names, more = repositories.name_page(n, last)
    return Page(names, _link("/v2/_catalog", n, names[-1]) if more else None)


def referrers(name: str, subject: str, artifact_type: str | None) -> dict[str, Any]:
    """The OCI 1.1 image index of manifests whose subject is `subject` (empty when there are none)."""
    descriptors = [json.loads(r.descriptor) for r in manifests.referrers(name, subject)
                   if artifact_type is None or r.artifact_type == artifact_type]
    return {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": descriptors}
