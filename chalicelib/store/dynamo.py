"""The metadata table on DynamoDB: the structured writes of store/metadata.py as expressions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from chalicelib.aws import client
from chalicelib.config import settings
from chalicelib.store.table import Condition, ConditionFailed, Delete, Item, Put, Update, Write

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()
INDEX_KEYS = {None: ("PK", "SK"), "GSI1": ("GSI1PK", "GSI1SK")}
BATCH_GET_LIMIT, BATCH_WRITE_LIMIT = 100, 25  # items per call


def to_ddb(item: Item) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in item.items() if v is not None}


def from_ddb(raw: dict[str, Any]) -> Item:
    item = {k: _deserializer.deserialize(v) for k, v in raw.items()}
    for name, value in item.items():
        # Binary attributes come back as boto3 Binary wrappers; callers want bytes.
        if hasattr(value, "value") and isinstance(value.value, bytes):
            item[name] = value.value
    return item


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": sk}}


class _Expression:
    """Collects the names and values of one expression under aliases (no reserved-word clash)."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.values: Item = {}

    def name(self, name: str) -> str:
        alias = f"#n{len(self.names)}"
        self.names[alias] = name
        return alias

    def path(self, dotted: str) -> str:
        return ".".join(self.name(part) for part in dotted.split("."))

    def value(self, value: Any) -> str:
        alias = f":v{len(self.values)}"
        self.values[alias] = value
        return alias

    def projection(self, attributes: list[str] | None, keys: tuple[str, ...] = ("PK", "SK")) -> dict[str, Any]:
        if attributes is None:
            return {}
        return {"ProjectionExpression": ", ".join(self.name(n) for n in [*keys, *attributes])}

    def arguments(self) -> dict[str, Any]:
        args: dict[str, Any] = {}
        if self.names:
            args["ExpressionAttributeNames"] = self.names
        if self.values:
            args["ExpressionAttributeValues"] = to_ddb(self.values)
        return args


def _condition(condition: Condition, expression: _Expression) -> dict[str, str]:
    if condition.expected:
        clauses = []
        if any(wanted is None for wanted in condition.expected.values()):
            clauses.append("attribute_exists(PK)")  # expectations hold on an item, never on its absence
        for name, wanted in condition.expected.items():
            if wanted is None:
                clauses.append(f"attribute_not_exists({expression.name(name)})")
            elif isinstance(wanted, tuple):
                clauses.append(f"{expression.name(name)} IN ({', '.join(expression.value(v) for v in wanted)})")
            else:
                clauses.append(f"{expression.name(name)} = {expression.value(wanted)}")
        return {"ConditionExpression": " AND ".join(clauses)}
    if condition.absent:
        return {"ConditionExpression": "attribute_not_exists(PK)"}
    if condition.exists:
        return {"ConditionExpression": "attribute_exists(PK)"}
    return {}


def _update_expression(update: Update, expression: _Expression) -> str:
    sets = [f"{expression.name(n)} = {expression.value(v)}" for n, v in update.fields.items() if v is not None]
    for name, value in update.defaults.items():
        alias = expression.name(name)
        sets.append(f"{alias} = if_not_exists({alias}, {expression.value(value)})")
    removed = [*update.remove, *(name for name, value in update.fields.items() if value is None)]
    clauses = [f"SET {', '.join(sets)}"] if sets else []
    if removed:
        clauses.append("REMOVE " + ", ".join(expression.path(name) for name in removed))
    if update.add:
        clauses.append("ADD " + ", ".join(f"{expression.name(n)} {expression.value(v)}" for n, v in update.add.items()))
    return " ".join(clauses)


def _operation(write: Write, table: str) -> tuple[str, dict[str, Any]]:
    """A write as the operation name and arguments of TransactWriteItems (a single write's call takes
    the same arguments)."""
    expression = _Expression()
    if isinstance(write, Put):
        args: dict[str, Any] = {"Item": to_ddb(write.item)}
        kind = "Put"
    elif isinstance(write, Delete):
        args, kind = {"Key": _key(write.pk, write.sk)}, "Delete"
    else:
        args = {"Key": _key(write.pk, write.sk), "UpdateExpression": _update_expression(write, expression)}
        kind = "Update"
    args |= _condition(write.condition, expression)
    return kind, {"TableName": table, **args, **expression.arguments()}


class DynamoTable:
    """The deployment's table (its name from the settings)."""

    def _table(self) -> str:
        return settings().table_name

    def get(self, pk: str, sk: str, consistent: bool) -> Item | None:
        raw = client("dynamodb").get_item(TableName=self._table(), Key=_key(pk, sk), ConsistentRead=consistent)
        return from_ddb(raw["Item"]) if "Item" in raw else None

    def batch_get(self, keys: list[tuple[str, str]], attributes: list[str] | None, consistent: bool) -> list[Item]:
        expression = _Expression()
        projection = expression.projection(attributes) | expression.arguments()
        if consistent:
            projection["ConsistentRead"] = True
        pending = [_key(pk, sk) for pk, sk in keys]
        found: list[Item] = []
        while pending:
            request = {self._table(): {"Keys": pending[:BATCH_GET_LIMIT], **projection}}
            pending = pending[BATCH_GET_LIMIT:]
            while request:  # unprocessed keys are asked for again
                raw = client("dynamodb").batch_get_item(RequestItems=request)
                found.extend(from_ddb(i) for i in raw["Responses"].get(self._table(), []))
                request = raw.get("UnprocessedKeys") or {}
        return found

    def _query_args(self, pk: str, prefix: str, index: str | None, attributes: list[str] | None) -> dict[str, Any]:
        hash_key, range_key = INDEX_KEYS[index]
        expression = _Expression()
        condition = f"{expression.name(hash_key)} = {expression.value(pk)}"
        if prefix:
            condition += f" AND begins_with({expression.name(range_key)}, {expression.value(prefix)})"
        args = {"TableName": self._table(), "KeyConditionExpression": condition,
                **expression.projection(attributes)}
        if index:
            args["IndexName"] = index
        return args | expression.arguments()

    def query(self, pk: str, prefix: str, after: str | None, limit: int | None,
              attributes: list[str] | None) -> tuple[list[Item], str | None]:
        args = self._query_args(pk, prefix, None, attributes)
        if after is not None:
            args["ExclusiveStartKey"] = _key(pk, after)
        items: list[Item] = []
        while True:
            if limit is not None:
                args["Limit"] = limit - len(items) + 1  # one extra tells whether more remain
            raw = client("dynamodb").query(**args)
            items.extend(from_ddb(i) for i in raw["Items"])
            if limit is not None and len(items) > limit:
                items = items[:limit]
                return items, items[-1]["SK"]
            if "LastEvaluatedKey" not in raw:
                return items, None
            args["ExclusiveStartKey"] = raw["LastEvaluatedKey"]

    def iterate(self, pk: str, prefix: str, descending: bool, page_size: int, attributes: list[str] | None,
                index: str | None) -> Iterator[Item]:
        args = self._query_args(pk, prefix, index, attributes) | {"Limit": page_size,
                                                                    "ScanIndexForward": not descending}
        while True:
            raw = client("dynamodb").query(**args)
            yield from (from_ddb(i) for i in raw["Items"])
            if "LastEvaluatedKey" not in raw:
                return
            args["ExclusiveStartKey"] = raw["LastEvaluatedKey"]

    def write(self, write: Write) -> Item | None:
        kind, args = _operation(write, self._table())
        call = {"Put": "put_item", "Delete": "delete_item", "Update": "update_item"}[kind]
        if kind == "Update":
            args["ReturnValues"] = "ALL_NEW"
        try:
            raw = getattr(client("dynamodb"), call)(**args)
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise ConditionFailed(str(error)) from error
            raise
        return from_ddb(raw["Attributes"]) if kind == "Update" else None

    def transact(self, writes: list[Write]) -> None:
        operations = [dict([_operation(write, self._table())]) for write in writes]
        try:
            client("dynamodb").transact_write_items(TransactItems=operations)
        except ClientError as error:
            if error.response["Error"]["Code"] == "TransactionCanceledException":
                raise ConditionFailed(str(error)) from error
            raise

    def batch_write(self, writes: list[Put | Delete]) -> None:
        requests = [{"PutRequest": {"Item": to_ddb(w.item)}} if isinstance(w, Put)
                    else {"DeleteRequest": {"Key": _key(w.pk, w.sk)}} for w in writes]
        for start in range(0, len(requests), BATCH_WRITE_LIMIT):
            request = {self._table(): requests[start:start + BATCH_WRITE_LIMIT]}
            while request:  # unprocessed items are written again
                raw = client("dynamodb").batch_write_item(RequestItems=request)
                request = raw.get("UnprocessedItems") or {}
