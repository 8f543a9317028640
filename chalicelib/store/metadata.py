"""The metadata table (DynamoDB, one table keyed by PK/SK; patterns in docs/data-model.md)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from chalicelib.aws import client
from chalicelib.config import settings

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()
Item = dict[str, Any]


class ConditionFailed(Exception):
    """A conditional write or transaction lost: the item was not in the expected state."""


def _to_ddb(item: Item) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in item.items() if v is not None}


def _from_ddb(raw: dict[str, Any]) -> Item:
    item = {k: _deserializer.deserialize(v) for k, v in raw.items()}
    for key, value in item.items():
        # Binary attributes come back as boto3 Binary wrappers; callers want bytes.
        if hasattr(value, "value") and isinstance(value.value, bytes):
            item[key] = value.value
    return item


def key(pk: str, sk: str) -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": sk}}


def _table() -> str:
    return settings().table_name


def check() -> None:
    """Raise unless the table answers (a read of a key that is never written)."""
    get("HEALTH", "PROBE")


def get(pk: str, sk: str, consistent: bool = False) -> Item | None:
    raw = client("dynamodb").get_item(TableName=_table(), Key=key(pk, sk), ConsistentRead=consistent)
    return _from_ddb(raw["Item"]) if "Item" in raw else None


def batch_get(keys: Iterable[tuple[str, str]], attributes: Iterable[str] | None = None, *,
              consistent: bool = False) -> list[Item]:
    """Read many items (100 per call, unprocessed keys retried); missing items are simply absent.
    `attributes` limits what is read (besides the keys)."""
    pending = [key(pk, sk) for pk, sk in dict.fromkeys(keys)]
    found: list[Item] = []
    projection: dict[str, Any] = {"ConsistentRead": True} if consistent else {}
    if attributes is not None:
        names = {f"#p{i}": name for i, name in enumerate(["PK", "SK", *attributes])}
        projection |= {"ProjectionExpression": ", ".join(names), "ExpressionAttributeNames": names}
    while pending:
        request = {_table(): {"Keys": pending[:100], **projection}}
        pending = pending[100:]
        while request:
            raw = client("dynamodb").batch_get_item(RequestItems=request)
            found.extend(_from_ddb(i) for i in raw["Responses"].get(_table(), []))
            request = raw.get("UnprocessedKeys") or {}
    return found


def query(pk: str, prefix: str = "", *, after: str | None = None, limit: int | None = None,
          projection: str | None = None) -> tuple[list[Item], str | None]:
    """Items of one partition whose SK starts with prefix, in SK order, strictly after `after`.

    Returns the items and the SK to continue after when more remain (limit reached).
    """
    condition = "PK = :pk"
    values: dict[str, Any] = {":pk": {"S": pk}}
    if prefix:
        condition += " AND begins_with(SK, :prefix)"
        values[":prefix"] = {"S": prefix}
    args: dict[str, Any] = {"TableName": _table(), "KeyConditionExpression": condition,
                            "ExpressionAttributeValues": values}
    if projection:
        args["ProjectionExpression"] = projection
    if after is not None:
        args["ExclusiveStartKey"] = key(pk, after)
    items: list[Item] = []
    while True:
        if limit is not None:
            args["Limit"] = limit - len(items) + 1  # one extra tells whether more remain
        raw = client("dynamodb").query(**args)
        items.extend(_from_ddb(i) for i in raw["Items"])
        if limit is not None and len(items) > limit:
            items = items[:limit]
            return items, items[-1]["SK"]
        if "LastEvaluatedKey" not in raw:
            return items, None
        args["ExclusiveStartKey"] = raw["LastEvaluatedKey"]


# Secondary index GSI1 (GSI1PK/GSI1SK): a second view of items that carry those attributes.
INDEX_KEYS = {None: ("PK", "SK"), "GSI1": ("GSI1PK", "GSI1SK")}


def _query_args(pk: str, prefix: str, index: str | None, descending: bool) -> dict[str, Any]:
    hash_key, range_key = INDEX_KEYS[index]
    condition = "#h = :pk"
    names = {"#h": hash_key}
    values: dict[str, Any] = {":pk": {"S": pk}}
    if prefix:
        condition += " AND begins_with(#r, :prefix)"
        names["#r"] = range_key
        values[":prefix"] = {"S": prefix}
    args: dict[str, Any] = {"TableName": _table(), "KeyConditionExpression": condition,
                            "ExpressionAttributeNames": names, "ExpressionAttributeValues": values,
                            "ScanIndexForward": not descending}
    if index:
        args["IndexName"] = index
    return args


def iterate(pk: str, prefix: str = "", *, descending: bool = False, page_size: int = 500,
            attributes: Iterable[str] | None = None, index: str | None = None) -> Iterator[Item]:
    """Stream one partition's items (key order) page by page, never holding more than a page."""
    args = _query_args(pk, prefix, index, descending) | {"Limit": page_size}
    if attributes is not None:
        projected = {f"#p{i}": name for i, name in enumerate(["PK", "SK", *attributes])}
        args["ProjectionExpression"] = ", ".join(projected)
        args["ExpressionAttributeNames"] = args["ExpressionAttributeNames"] | projected
    while True:
        raw = client("dynamodb").query(**args)
        yield from (_from_ddb(i) for i in raw["Items"])
        if "LastEvaluatedKey" not in raw:
            return
        args["ExclusiveStartKey"] = raw["LastEvaluatedKey"]


def put(item: Item, *, if_absent: bool = False) -> None:
    args: dict[str, Any] = {"TableName": _table(), "Item": _to_ddb(item)}
    if if_absent:
        args["ConditionExpression"] = "attribute_not_exists(PK)"
    try:
        client("dynamodb").put_item(**args)
    except ClientError as error:
        _raise_condition(error)


def delete(pk: str, sk: str, *, must_exist: bool = False) -> None:
    args: dict[str, Any] = {"TableName": _table(), "Key": key(pk, sk)}
    if must_exist:
        args["ConditionExpression"] = "attribute_exists(PK)"
    try:
        client("dynamodb").delete_item(**args)
    except ClientError as error:
        _raise_condition(error)


def _update(pk: str, sk: str, expression: str, values: Item, *, condition: str | None = None,
           names: dict[str, str] | None = None) -> Item:
    """Apply an update expression; returns the item as written."""
    args: dict[str, Any] = {"TableName": _table(), "Key": key(pk, sk), "UpdateExpression": expression,
                            "ReturnValues": "ALL_NEW"}
    if values:
        args["ExpressionAttributeValues"] = _to_ddb(values)
    if condition:
        args["ConditionExpression"] = condition
    if names:
        args["ExpressionAttributeNames"] = names
    try:
        raw = client("dynamodb").update_item(**args)
    except ClientError as error:
        _raise_condition(error)
    return _from_ddb(raw["Attributes"])


def _assignments(fields: Item, remove: Iterable[str] = (), add: Item | None = None,
                defaults: Item | None = None) -> tuple[str, Item, dict[str, str]]:
    """An update expression that sets `fields`, sets `defaults` only where the item has no such attribute
    yet, removes the `remove` attributes (a dotted name removes one key of a map attribute) and adds
    `add`'s numbers, with every name an alias (no reserved-word clash). A field set to None is
    removed, as put() leaves None attributes out."""
    remove = [*remove, *(name for name, value in fields.items() if value is None)]
    fields = {name: value for name, value in fields.items() if value is not None}
    names: dict[str, str] = {}
    values: Item = {}
    clauses = []
    sets = []
    for i, (name, value) in enumerate(fields.items()):
        names[f"#s{i}"], values[f":s{i}"] = name, value
        sets.append(f"#s{i} = :s{i}")
    for i, (name, value) in enumerate((defaults or {}).items()):
        names[f"#d{i}"], values[f":d{i}"] = name, value
        sets.append(f"#d{i} = if_not_exists(#d{i}, :d{i})")
    if sets:
        clauses.append("SET " + ", ".join(sets))
    paths = []
    for i, name in enumerate(remove):
        parts = name.split(".")
        names |= {f"#r{i}_{j}": part for j, part in enumerate(parts)}
        paths.append(".".join(f"#r{i}_{j}" for j in range(len(parts))))
    if paths:
        clauses.append("REMOVE " + ", ".join(paths))
    if add:
        for i, (name, value) in enumerate(add.items()):
            names[f"#a{i}"], values[f":a{i}"] = name, value
        clauses.append("ADD " + ", ".join(f"#a{i} :a{i}" for i in range(len(add))))
    return " ".join(clauses), values, names


def _expectations(expected: Item) -> tuple[str, Item, dict[str, str]]:
    """A condition that each attribute of `expected` holds its value (a tuple: one of its values)."""
    clauses, values, names = [], {}, {}
    for i, (name, wanted) in enumerate(expected.items()):
        names[f"#e{i}"] = name
        if isinstance(wanted, tuple):
            options = {f":e{i}_{j}": value for j, value in enumerate(wanted)}
            values |= options
            clauses.append(f"#e{i} IN ({', '.join(options)})")
        else:
            values[f":e{i}"] = wanted
            clauses.append(f"#e{i} = :e{i}")
    return " AND ".join(clauses), values, names


def set_fields(pk: str, sk: str, fields: Item, *, remove: Iterable[str] = (), add: Item | None = None,
               defaults: Item | None = None, must_exist: bool = True, expected: Item | None = None) -> Item:
    """Set (and default, remove, add to) some attributes of one item; returns the item as written.
    ConditionFailed when it must exist and does not, or does not hold the `expected` values."""
    expression, values, names = _assignments(fields, remove, add, defaults)
    condition = "attribute_exists(PK)" if must_exist else None
    if expected:
        condition, held, expected_names = _expectations(expected)
        values, names = values | held, names | expected_names
    return _update(pk, sk, expression, values, names=names, condition=condition)


def set_fields_op(pk: str, sk: str, fields: Item, *, add: Item | None = None, defaults: Item | None = None,
                  must_exist: bool = False, expected: Item | None = None) -> dict[str, Any]:
    """set_fields as an operation of a transaction."""
    expression, values, names = _assignments(fields, add=add, defaults=defaults)
    op = _update_op(pk, sk, expression, {}, must_exist=must_exist)
    if expected:
        condition, held, expected_names = _expectations(expected)
        op["Update"]["ConditionExpression"] = condition
        values, names = values | held, names | expected_names
    if values:
        op["Update"]["ExpressionAttributeValues"] = _to_ddb(values)
    op["Update"]["ExpressionAttributeNames"] = names
    return op


def batch_delete(item_keys: Iterable[tuple[str, str]]) -> None:
    """Delete many items, 25 per call (DynamoDB's limit), retrying unprocessed ones. Not atomic."""
    _batch_write([{"DeleteRequest": {"Key": key(pk, sk)}} for pk, sk in item_keys])


def batch_put(items: Iterable[Item]) -> None:
    """Write many items, 25 per call, retrying unprocessed ones. Not atomic (bulk loads)."""
    _batch_write([{"PutRequest": {"Item": _to_ddb(item)}} for item in items])


def _batch_write(writes: list[dict[str, Any]]) -> None:
    for start in range(0, len(writes), 25):
        request = {_table(): writes[start:start + 25]}
        while request:
            raw = client("dynamodb").batch_write_item(RequestItems=request)
            request = raw.get("UnprocessedItems") or {}


def next_id(counter: str) -> int:
    """Allocate the next integer id of a sequence (Harbor's API uses integer ids)."""
    item = set_fields("COUNTER", counter, {}, add={"next_value": 1}, must_exist=False)
    return int(item["next_value"])


# Transaction operations: build with put_op/delete_op/update_op, run with transact().
def put_op(item: Item, *, if_absent: bool = False, must_exist: bool = False,
           expected: Item | None = None) -> dict[str, Any]:
    """A put in a transaction: only if absent, only if present, or only while the item holds the
    `expected` values."""
    op: dict[str, Any] = {"TableName": _table(), "Item": _to_ddb(item)}
    if if_absent:
        op["ConditionExpression"] = "attribute_not_exists(PK)"
    elif must_exist:
        op["ConditionExpression"] = "attribute_exists(PK)"
    elif expected:
        condition, values, names = _expectations(expected)
        op |= {"ConditionExpression": condition, "ExpressionAttributeValues": _to_ddb(values),
               "ExpressionAttributeNames": names}
    return {"Put": op}


def delete_op(pk: str, sk: str, *, must_exist: bool = False) -> dict[str, Any]:
    op: dict[str, Any] = {"TableName": _table(), "Key": key(pk, sk)}
    if must_exist:
        op["ConditionExpression"] = "attribute_exists(PK)"
    return {"Delete": op}


def _update_op(pk: str, sk: str, expression: str, values: Item, *, must_exist: bool = False) -> dict[str, Any]:
    op: dict[str, Any] = {"TableName": _table(), "Key": key(pk, sk), "UpdateExpression": expression}
    if values:
        op["ExpressionAttributeValues"] = _to_ddb(values)
    if must_exist:
        op["ConditionExpression"] = "attribute_exists(PK)"
    return {"Update": op}


def transact(operations: list[dict[str, Any]]) -> None:
    """All or nothing; at most 100 operations (DynamoDB's limit)."""
    try:
        client("dynamodb").transact_write_items(TransactItems=operations)
    except ClientError as error:
        if error.response["Error"]["Code"] == "TransactionCanceledException":
            raise ConditionFailed(str(error)) from error
        raise


def _raise_condition(error: ClientError) -> None:
    if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
        raise ConditionFailed(str(error)) from error
    raise error
