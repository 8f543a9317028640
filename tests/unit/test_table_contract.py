"""The metadata table's contract, run on DynamoDB (moto) and on the in-memory table of the fast service
tests: whatever a store relies on behaves the same on both."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from chalicelib.store import metadata
from tests.support.memory_table import MemoryTable


@pytest.fixture(params=["dynamodb", "memory"])
def table(request: pytest.FixtureRequest) -> Iterator[str]:
    if request.param == "dynamodb":
        request.getfixturevalue("stack")
        yield request.param
        return
    previous = metadata.use(MemoryTable())
    yield request.param
    metadata.use(previous)


def test_an_item_comes_back_as_written_with_numbers_as_decimals(table: str) -> None:
    metadata.put({"PK": "P", "SK": "a", "count": 3, "name": "x", "blob": b"\x00\x01", "tags": {"a", "b"},
                  "map": {"k": [1, "v"]}, "flag": True, "gone": None})
    item = metadata.get("P", "a")
    assert item == {"PK": "P", "SK": "a", "count": Decimal(3), "name": "x", "blob": b"\x00\x01",
                    "tags": {"a", "b"}, "map": {"k": [Decimal(1), "v"]}, "flag": True}
    assert isinstance(item["count"], Decimal)
    assert metadata.get("P", "b") is None


def test_floats_are_refused(table: str) -> None:
    with pytest.raises(TypeError):
        metadata.put({"PK": "P", "SK": "a", "ratio": 0.5})
    assert metadata.get("P", "a") is None


def test_a_returned_item_is_a_copy(table: str) -> None:
    metadata.put({"PK": "P", "SK": "a", "map": {"k": "v"}})
    metadata.get("P", "a")["map"]["k"] = "changed"
    assert metadata.get("P", "a")["map"] == {"k": "v"}


def test_put_if_absent_keeps_the_first_item(table: str) -> None:
    metadata.put({"PK": "P", "SK": "a", "v": "first"}, if_absent=True)
    with pytest.raises(metadata.ConditionFailed):
        metadata.put({"PK": "P", "SK": "a", "v": "second"}, if_absent=True)
    assert metadata.get("P", "a")["v"] == "first"
    metadata.put({"PK": "P", "SK": "a", "v": "third"})
    assert metadata.get("P", "a") == {"PK": "P", "SK": "a", "v": "third"}


def test_delete_of_a_missing_item_fails_only_when_it_must_exist(table: str) -> None:
    metadata.delete("P", "missing")
    with pytest.raises(metadata.ConditionFailed):
        metadata.delete("P", "missing", must_exist=True)
    metadata.put({"PK": "P", "SK": "a"})
    metadata.delete("P", "a", must_exist=True)
    assert metadata.get("P", "a") is None


def test_set_fields_needs_the_item_unless_told_otherwise(table: str) -> None:
    with pytest.raises(metadata.ConditionFailed):
        metadata.set_fields("P", "a", {"v": 1})
    assert metadata.get("P", "a") is None
    assert metadata.set_fields("P", "a", {"v": 1}, must_exist=False) == {"PK": "P", "SK": "a", "v": 1}


def test_set_fields_sets_defaults_removes_and_adds(table: str) -> None:
    metadata.put({"PK": "P", "SK": "a", "keep": "k", "old": "o", "meta": {"x": "1", "y": "2"}, "made": "t0"})
    written = metadata.set_fields("P", "a", {"new": "n", "old": None}, remove=["meta.x"],
                                  defaults={"made": "t1", "first": "f"}, add={"count": 2})
    expected = {"PK": "P", "SK": "a", "keep": "k", "new": "n", "meta": {"y": "2"}, "made": "t0", "first": "f",
                "count": 2}
    assert written == expected
    assert metadata.get("P", "a") == expected
    assert metadata.set_fields("P", "a", {}, add={"count": -5})["count"] == -3


def test_set_fields_applies_only_while_the_expected_values_hold(table: str) -> None:
    metadata.put({"PK": "P", "SK": "a", "status": "Running"})
    metadata.set_fields("P", "a", {"status": "Stopping"}, expected={"status": ("Pending", "Running")})
    for expected in ({"status": "Running"}, {"status": ("Pending", "Running")}, {"missing": "x"}):
        with pytest.raises(metadata.ConditionFailed):
            metadata.set_fields("P", "a", {"status": "Error"}, expected=expected)
    with pytest.raises(metadata.ConditionFailed):
        metadata.set_fields("P", "absent", {"status": "Error"}, expected={"status": "Running"})
    assert metadata.get("P", "a")["status"] == "Stopping"
    assert metadata.get("P", "absent") is None


def test_an_expected_none_means_the_attribute_is_absent(table: str) -> None:
    metadata.put({"PK": "P", "SK": "a", "status": "Running"})
    metadata.set_fields("P", "a", {"mark": "x"}, expected={"status": "Running", "mark": None})
    with pytest.raises(metadata.ConditionFailed):
        metadata.set_fields("P", "a", {"mark": "y"}, expected={"mark": None})
    with pytest.raises(metadata.ConditionFailed):  # an absent item holds no expectation
        metadata.set_fields("P", "absent", {"mark": "y"}, expected={"mark": None}, must_exist=False)
    assert metadata.get("P", "a")["mark"] == "x"
    assert metadata.get("P", "absent") is None


def test_ids_count_up_per_sequence(table: str) -> None:
    assert [metadata.next_id("one") for _ in range(3)] == [1, 2, 3]
    assert metadata.next_id("two") == 1


def _fill(partition: str, sort_keys: list[str]) -> None:
    metadata.batch_put({"PK": partition, "SK": sk, "v": sk.upper(), "n": i} for i, sk in enumerate(sort_keys))


def test_query_reads_one_partition_in_byte_order_by_prefix(table: str) -> None:
    _fill("P", ["b/2", "a", "b/1", "B", "é", "b/10", "c"])
    _fill("Q", ["b/3"])
    items, more = metadata.query("P")
    assert [i["SK"] for i in items] == ["B", "a", "b/1", "b/10", "b/2", "c", "é"] and more is None
    items, _ = metadata.query("P", "b/")
    assert [i["SK"] for i in items] == ["b/1", "b/10", "b/2"]
    assert items[0] == {"PK": "P", "SK": "b/1", "v": "B/1", "n": 2}


def test_query_pages_with_a_limit_and_a_start_after(table: str) -> None:
    _fill("P", [f"k{i:02}" for i in range(7)])
    items, more = metadata.query("P", limit=3)
    assert [i["SK"] for i in items] == ["k00", "k01", "k02"] and more == "k02"
    items, more = metadata.query("P", after=more, limit=3)
    assert [i["SK"] for i in items] == ["k03", "k04", "k05"] and more == "k05"
    items, more = metadata.query("P", after=more, limit=3)
    assert [i["SK"] for i in items] == ["k06"] and more is None
    items, more = metadata.query("P", after="k05", limit=1)
    assert [i["SK"] for i in items] == ["k06"] and more is None


def test_query_and_iterate_read_only_the_attributes_asked_for(table: str) -> None:
    _fill("P", ["a"])
    assert metadata.query("P", attributes=[])[0] == [{"PK": "P", "SK": "a"}]
    assert metadata.query("P", attributes=["v"])[0] == [{"PK": "P", "SK": "a", "v": "A"}]
    assert list(metadata.iterate("P", attributes=["n", "absent"])) == [{"PK": "P", "SK": "a", "n": 0}]


def test_iterate_streams_every_page_in_either_order(table: str) -> None:
    sort_keys = [f"k{i:02}" for i in range(12)]
    _fill("P", sort_keys)
    assert [i["SK"] for i in metadata.iterate("P", page_size=5)] == sort_keys
    assert [i["SK"] for i in metadata.iterate("P", "k0", descending=True, page_size=4)] == sort_keys[:10][::-1]


def test_iterate_reads_the_secondary_index_by_its_own_keys(table: str) -> None:
    metadata.batch_put([
        {"PK": "X#1", "SK": "X", "GSI1PK": "ALL", "GSI1SK": "0002", "v": 1},
        {"PK": "X#2", "SK": "X", "GSI1PK": "ALL", "GSI1SK": "0001", "v": 2},
        {"PK": "X#3", "SK": "X", "GSI1PK": "OTHER", "GSI1SK": "0003", "v": 3},
        {"PK": "X#4", "SK": "X", "v": 4},
    ])
    assert [i["v"] for i in metadata.iterate("ALL", index="GSI1")] == [2, 1]
    assert [i["v"] for i in metadata.iterate("ALL", "0002", index="GSI1")] == [1]
    assert [i["PK"] for i in metadata.iterate("ALL", descending=True, index="GSI1", page_size=1)] == ["X#1", "X#2"]


def test_batches_read_and_write_any_number_of_items(table: str) -> None:
    sort_keys = [f"k{i:03}" for i in range(130)]
    _fill("P", sort_keys)
    found = metadata.batch_get([("P", sk) for sk in [*sort_keys, "missing", "k000"]], attributes=["n"])
    assert sorted(found, key=lambda i: i["SK"]) == [{"PK": "P", "SK": sk, "n": i} for i, sk in enumerate(sort_keys)]
    metadata.batch_delete(("P", sk) for sk in sort_keys[:101])
    assert [i["SK"] for i in metadata.iterate("P")] == sort_keys[101:]
    assert metadata.batch_get([]) == []


def test_a_transaction_writes_all_or_nothing(table: str) -> None:
    metadata.put({"PK": "P", "SK": "held", "status": "Running"})
    metadata.put({"PK": "P", "SK": "gone"})
    writes = [metadata.put_op({"PK": "P", "SK": "new"}, if_absent=True),
              metadata.set_fields_op("P", "counter", {}, add={"n": 1}),
              metadata.delete_op("P", "gone", must_exist=True),
              metadata.put_op({"PK": "P", "SK": "held", "status": "Done"}, expected={"status": "Running"})]
    metadata.transact(writes)
    assert [i["SK"] for i in metadata.iterate("P")] == ["counter", "held", "new"]
    assert metadata.get("P", "held")["status"] == "Done"
    with pytest.raises(metadata.ConditionFailed):  # "held" is no longer Running, "gone" is gone
        metadata.transact([metadata.set_fields_op("P", "counter", {}, add={"n": 1}),
                           metadata.put_op({"PK": "P", "SK": "held", "status": "Again"},
                                           expected={"status": "Running"})])
    with pytest.raises(metadata.ConditionFailed):
        metadata.transact([metadata.put_op({"PK": "P", "SK": "other"}),
                           metadata.delete_op("P", "gone", must_exist=True)])
    with pytest.raises(metadata.ConditionFailed):
        metadata.transact([metadata.put_op({"PK": "P", "SK": "other"}),
                           metadata.set_fields_op("P", "missing", {"v": 1}, must_exist=True)])
    assert metadata.get("P", "counter")["n"] == 1
    assert metadata.get("P", "other") is None
    assert metadata.get("P", "missing") is None


def test_a_transaction_takes_at_most_100_writes_one_per_item(table: str) -> None:
    with pytest.raises(ValueError):
        metadata.transact([metadata.put_op({"PK": "P", "SK": f"k{i}"}) for i in range(101)])
    with pytest.raises(ValueError):
        metadata.transact([metadata.put_op({"PK": "P", "SK": "a"}), metadata.delete_op("P", "a")])
    assert list(metadata.iterate("P")) == []
