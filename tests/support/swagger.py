"""Validation of API answers against the definitions of Harbor 2.6's swagger (copied beside this file)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

SWAGGER = Path(__file__).with_name("harbor-swagger-v2.6.0.yaml")


def _as_harbor_means_it(schema: Any) -> Any:
    """go-swagger reads `additionalProperties: {type: object}` as 'any value' (Go's interface{}; Harbor
    returns strings there, e.g. extra_attrs.os) and `x-nullable: true` as 'or null'."""
    if isinstance(schema, list):
        return [_as_harbor_means_it(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    converted = {k: _as_harbor_means_it(v) for k, v in schema.items()}
    if converted.get("additionalProperties") == {"type": "object"}:
        converted["additionalProperties"] = {}
    if converted.get("x-nullable") and isinstance(converted.get("type"), str):
        converted["type"] = [converted["type"], "null"]
    return converted


@cache
def _definitions() -> dict[str, Any]:
    return _as_harbor_means_it(yaml.safe_load(SWAGGER.read_text())["definitions"])


def validate(document: Any, definition: str, *, many: bool = False) -> None:
    """Raise jsonschema.ValidationError unless the document matches #/definitions/<definition>."""
    item = {"$ref": f"#/definitions/{definition}"}
    schema = {"definitions": _definitions(), **({"type": "array", "items": item} if many else item)}
    jsonschema.Draft4Validator(schema).validate(document)
