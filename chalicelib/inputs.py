"""Parsing of untrusted input that every entry point shares: decimal numbers and JSON documents.

Python accepts more than a client means: `"²".isdigit()` is true and `int("²")` fails; `json.loads`
recurses once per nesting level and overflows the stack at a few thousand; it reads numbers of any
size, which DynamoDB (38 digits) refuses on write. These helpers refuse such input up front, so a
handler answers 400 and writes nothing.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_DEPTH = 64  # far beyond any manifest or API body; far below the interpreter's recursion limit
MAX_INTEGER = 2**63 - 1  # Harbor's ids and sizes are int64 (DynamoDB keeps 38 digits)
_DECIMAL = re.compile(r"[0-9]{1,19}")


class InvalidInput(ValueError):
    pass


def decimal(raw: object) -> int | None:
    """A non-negative int64 written in ASCII digits; None for anything else."""
    if not isinstance(raw, str) or not _DECIMAL.fullmatch(raw):
        return None
    value = int(raw)
    return value if value <= MAX_INTEGER else None


def _bounded_integer(text: str) -> int:
    value = int(text)
    if abs(value) > MAX_INTEGER:
        raise InvalidInput(f"number out of range: {text[:30]}")
    return value


def _finite_float(text: str) -> float:
    value = float(text)
    if not abs(value) < 1e125:  # DynamoDB's largest number; also refuses infinity
        raise InvalidInput(f"number out of range: {text[:30]}")
    return value


def _refuse_constant(name: str) -> Any:
    raise InvalidInput(f"{name} is not JSON")


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def _depth(text: str) -> int:
    """How deeply arrays and objects nest. Strings are cut out and everything but brackets dropped at
    C speed first, so only the brackets are walked in Python."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return 0
    brackets = "".join(re.findall(r"[\[\]{}]", _STRING.sub("", text)))
    depth = deepest = 0
    for char in brackets:
        depth += 1 if char in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def load_json(raw: bytes | str) -> Any:
    """A JSON document with at most MAX_DEPTH levels, integers within int64 and finite numbers.
    InvalidInput (a ValueError) otherwise, like malformed JSON."""
    text = raw.decode() if isinstance(raw, bytes) else raw
    if _depth(text) > MAX_DEPTH:
        raise InvalidInput(f"JSON nested deeper than {MAX_DEPTH} levels")
    return json.loads(text, parse_int=_bounded_integer, parse_float=_finite_float, parse_constant=_refuse_constant)
