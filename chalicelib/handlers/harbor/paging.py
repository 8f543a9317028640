"""Harbor's list conventions: page/page_size, `q`, `sort`, X-Total-Count and the Link header
(semantics-2.6.md section 0). Lists stream from a DynamoDB Query: only the page is kept."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import unquote, urlencode

from chalicelib.errors import DomainError, harbor_error
from chalicelib.handlers.http import HttpRequest

T = TypeVar("T")
MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class Page:
    number: int
    size: int

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size


def _integer(request: HttpRequest, name: str, default: int) -> int:
    raw = request.param(name)
    if raw is None or raw == "":
        return default
    if not re.fullmatch(r"-?\d+", raw):
        raise DomainError("UNPROCESSABLE_ENTITY", f"{name} in query must be of type int64: \"{raw[:20]}\"")
    return int(raw)


def page_of(request: HttpRequest) -> Page:
    """page (default 1) and page_size (default 10, at most 100) as go-swagger validates them.

    page_size=0 means "no limit" in Harbor; we refuse it, since every list pages in the database.
    """
    number, size = _integer(request, "page", 1), _integer(request, "page_size", 10)
    if size > MAX_PAGE_SIZE:
        raise DomainError("UNPROCESSABLE_ENTITY",
                           f"page_size in query should be less than or equal to {MAX_PAGE_SIZE}")
    if size < 1:
        raise DomainError("UNPROCESSABLE_ENTITY", "page_size in query should be greater than or equal to 1")
    if number < 1:
        raise DomainError("UNPROCESSABLE_ENTITY", "page in query should be greater than or equal to 1")
    return Page(number, size)


# q: k=v exact, k=~v fuzzy, k=[min~max] range, k={a b} any of, k=(a b) all of.
@dataclass(frozen=True)
class Condition:
    kind: str  # exact | fuzzy | range | any | all
    values: tuple[Any, ...]

    def matches(self, actual: Any) -> bool:
        if self.kind == "exact":
            return _same(actual, self.values[0])
        if self.kind == "fuzzy":
            return str(self.values[0]).lower() in str(actual).lower()
        if self.kind == "range":
            low, high = self.values
            return (low is None or actual >= low) and (high is None or actual <= high)
        if self.kind == "any":
            return any(_same(actual, v) for v in self.values)
        items = actual if isinstance(actual, list | tuple | set) else [actual]
        return all(any(_same(i, v) for i in items) for v in self.values)


def _same(actual: Any, expected: Any) -> bool:
    if isinstance(actual, bool):
        return str(actual).lower() == str(expected).lower()
    return actual == expected or str(actual) == str(expected)


Parse = Callable[[str], Any]


def _text(raw: str) -> str:
    return raw.strip().strip("\"'")


def _integer_value(raw: str) -> int:
    if not re.fullmatch(r"-?[0-9]{1,18}", raw.strip()):
        raise _invalid_value(raw)
    return int(raw)


def _boolean_value(raw: str) -> bool:
    if raw.strip().lower() not in ("true", "false"):
        raise _invalid_value(raw)
    return raw.strip().lower() == "true"


def _invalid_value(raw: str) -> DomainError:
    return DomainError("BAD_REQUEST", f"invalid query string value: {raw[:100]}")


def _condition(raw: str, _value: Parse) -> Condition:
    """One item's condition, its values parsed as the key's type (a value of another type is a 400,
    never a comparison that fails later)."""
    if raw.startswith("~"):
        if len(raw) < 2:
            raise _invalid_value(raw)
        return Condition("fuzzy", (raw[1:],))
    if raw.startswith("["):
        if not raw.endswith("]") or raw.count("~") != 1:
            raise _invalid_value(raw)
        low, high = (part.strip() for part in raw[1:-1].split("~"))
        if not low and not high:
            raise _invalid_value(raw)
        return Condition("range", (_value(low) if low else None, _value(high) if high else None))
    for opening, closing, kind in (("{", "}", "any"), ("(", ")", "all")):
        if raw.startswith(opening):
            if not raw.endswith(closing):
                raise _invalid_value(raw)
            return Condition(kind, tuple(_value(v) for v in raw[1:-1].split(" ") if v.strip()))
    return Condition("exact", (_value(raw[1:] if raw.startswith("\\") else raw),))


def query_of(request: HttpRequest, allowed: Iterable[str], *, integers: Iterable[str] = (),
             booleans: Iterable[str] = ()) -> dict[str, Condition]:
    """Parse `q`; a key the resource cannot filter on is a 400, like a malformed item. Keys are text
    unless named in `integers` or `booleans`."""
    raw = request.param("q")
    if not raw:
        return {}
    conditions: dict[str, Condition] = {}
    allowed = set(allowed) | set(integers) | set(booleans)
    parsers: dict[str, Parse] = {**dict.fromkeys(integers, _integer_value), **dict.fromkeys(booleans, _boolean_value)}
    for item in unquote(raw).split(","):
        key, sep, value = item.partition("=")
        if not sep or not key or not value:
            raise DomainError("BAD_REQUEST", 'the query string must contain "=" and the key/value cannot be empty')
        if key not in allowed:
            raise harbor_error("BAD_REQUEST", f"query key {key[:50]} is not supported; use one of {sorted(allowed)}")
        conditions[key] = _condition(value, parsers.get(key, _text))
    return conditions


def sort_of(request: HttpRequest, allowed: Iterable[str], default: str) -> tuple[str, bool]:
    """One sort key (`k` or `-k`): the lists are kept in key order in the database."""
    raw = request.param("sort") or default
    descending = raw.startswith("-")
    key = raw.lstrip("-")
    if "," in raw or key not in set(allowed):
        raise harbor_error("BAD_REQUEST", f"sort by {raw[:50]} is not supported; use one of {sorted(allowed)}")
    return key, descending


def window(items: Iterable[T], page: Page, keep: Callable[[T], bool]) -> tuple[list[T], int]:
    """The page of the items `keep` accepts, and how many it accepts in all (items are streamed)."""
    selected: list[T] = []
    total = 0
    for item in items:
        if not keep(item):
            continue
        if page.offset <= total < page.offset + page.size:
            selected.append(item)
        total += 1
    return selected, total


def list_headers(request: HttpRequest, path: str, page: Page, total: int) -> dict[str, str]:
    """X-Total-Count and the RFC 5988 Link header (prev/next) as Harbor builds them."""
    headers = {"X-Total-Count": str(total)}
    params = {k: v[-1] for k, v in request.query.items()}
    links = []
    if page.number > 1 and (page.number - 1) * page.size < total:
        links.append(f'<{path}?{urlencode({**params, "page": page.number - 1, "page_size": page.size})}>; rel="prev"')
    if page.number * page.size < total:
        links.append(f'<{path}?{urlencode({**params, "page": page.number + 1, "page_size": page.size})}>; rel="next"')
    if links:
        headers["Link"] = " , ".join(links)
    return headers
