"""Pull bookkeeping off the request path (chalicelib/store/pulls.py): a pull writes nothing to the table;
it is queued before it is answered, and the pull recorder writes counts, times and audit records in
batches, exact even when a batch is delivered again or a run stops halfway, and whatever the cache does."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import boto3
import pytest

from chalicelib import aws
from chalicelib.store import cache, pulls
from infra.cache_server import RedisServer
from infra.functions import LocalFunctions
from infra.resources import Context
from tests.support.aws_calls import counting
from tests.support.client import Client, api
from tests.support.images import make_image
from tests.support.load import load
from tests.support.oci import push_image

_WRITES = ("PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem")


def _pull_count(client: Client, name: str) -> int:
    return api(client, "GET", f"/projects/library/repositories/{name}").json()["pull_count"]


def _pull_records(client: Client) -> int:
    return int(api(client, "GET", "/audit-logs?q=operation%3Dpull").header("X-Total-Count"))


def test_a_pull_is_answered_without_writing_to_the_table(client: Client, local_functions: LocalFunctions) -> None:
    push_image(client, "library/app", "v1", make_image("no writes"))
    with counting() as usage:
        assert client.request("GET", "/v2/library/app/manifests/v1").status == 200
    assert not [call for call in usage.calls if call.split(".")[-1].split("(")[0] in _WRITES], usage.calls
    assert usage.calls["sqs.SendMessage"] == 1
    assert _pull_records(client) == 0  # not yet written
    local_functions.drain()
    assert (_pull_count(client, "app"), _pull_records(client)) == (1, 1)


def test_concurrent_pulls_are_counted_exactly_once_each(client: Client, local_functions: LocalFunctions) -> None:
    push_image(client, "library/app", "v1", make_image("popular"))
    push_image(client, "library/other", "v1", make_image("other"))
    token = client.request("GET", "/service/token?scope=repository:library/app:pull").json()["token"]

    def pull(index: int) -> int:
        name = "app" if index % 4 else "other"
        return client.request("GET", f"/v2/library/{name}/manifests/v1", token=token if name == "app" else None,
                              auth=None if name == "app" else ("admin", "Harbor12345")).status

    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(pull, range(200))) == {200}
    local_functions.drain()
    assert (_pull_count(client, "app"), _pull_count(client, "other"), _pull_records(client)) == (150, 50, 200)
    artifact = api(client, "GET", "/projects/library/repositories/app/artifacts/v1").json()
    assert artifact["pull_time"] > artifact["push_time"]


def _receive_all(queue_url: str, region: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs", region_name=region)
    received: list[dict[str, Any]] = []
    while batch := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        received += batch
    return received


def _as_lambda_event(messages: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Records": [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                         "eventSource": "aws:sqs"} for m in messages]}


def test_a_batch_written_halfway_or_delivered_again_still_counts_each_pull_once(
        client: Client, local_functions: LocalFunctions, stack: Context) -> None:
    push_image(client, "library/app", "v1", make_image("redelivered"))
    push_image(client, "library/other", "v1", make_image("other"))
    for name in ("app", "app", "other", "app", "other"):
        assert client.request("GET", f"/v2/library/{name}/manifests/v1").status == 200
    queue_url = stack.resolve({"Ref": "PullQueue"})
    messages = _receive_all(queue_url, stack.region)
    assert len(messages) == 5
    # A flush that wrote part of its batch and stopped, and one that wrote all of it but whose
    # messages were never acknowledged: all five come back.
    local_functions.invoke("PullRecorderFunction", _as_lambda_event(messages[:2]))
    local_functions.invoke("PullRecorderFunction", _as_lambda_event(messages))
    sqs = boto3.client("sqs", region_name=stack.region)
    for message in messages:
        sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"],
                                      VisibilityTimeout=0)
    local_functions.drain()
    assert (_pull_count(client, "app"), _pull_count(client, "other"), _pull_records(client)) == (3, 2, 5)


@contextmanager
def _updates_of_item(sort_key: str) -> Iterator[list[str]]:
    """The updates DynamoDB is asked to make to items with this sort key (in transactions or not)."""
    updates: list[str] = []

    def before(params: dict[str, Any], **_: Any) -> None:
        operations = [op["Update"] for op in params.get("TransactItems", []) if "Update" in op]
        operations += [params] if "UpdateExpression" in params else []
        updates.extend(op["UpdateExpression"] for op in operations if op["Key"]["SK"]["S"] == sort_key)

    dynamodb = aws.client("dynamodb")
    dynamodb.meta.events.register("before-parameter-build.dynamodb", before)
    try:
        yield updates
    finally:
        dynamodb.meta.events.unregister("before-parameter-build.dynamodb", before)


def test_a_batch_of_pulls_of_one_artifact_writes_its_item_once(
        client: Client, local_functions: LocalFunctions, stack: Context) -> None:
    image = make_image("hot")
    push_image(client, "library/app", "v1", image)
    token = client.request("GET", "/service/token?scope=repository:library/app:pull").json()["token"]
    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(lambda _: client.request("GET", "/v2/library/app/manifests/v1", token=token).status,
                            range(250))) == {200}
    records = [pulls.parse(m["Body"]) for m in _receive_all(stack.resolve({"Ref": "PullQueue"}), stack.region)]
    with _updates_of_item(f"MANIFEST#{image.digest}") as artifact, _updates_of_item("library/app") as repository:
        pulls.record("library/app", records)  # one batch, as the recorder writes it
    assert (len(artifact), len(repository)) == (1, 1)
    assert (_pull_count(client, "app"), _pull_records(client)) == (250, 250)


def test_a_run_that_stopped_after_writing_the_records_is_completed_by_the_next_one(
        client: Client, local_functions: LocalFunctions, stack: Context, retry_at_once: None) -> None:
    push_image(client, "library/app", "v1", make_image("stopped"))
    for _ in range(3):
        assert client.request("GET", "/v2/library/app/manifests/v1").status == 200
    queue_url = stack.resolve({"Ref": "PullQueue"})
    messages = _receive_all(queue_url, stack.region)
    pulls.tally("library/app", [pulls.parse(m["Body"]) for m in messages])  # and the run stopped
    assert (_pull_count(client, "app"), _pull_records(client)) == (0, 3)
    sqs = boto3.client("sqs", region_name=stack.region)
    for message in messages:  # never acknowledged: delivered again
        sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"],
                                      VisibilityTimeout=0)
    local_functions.drain()
    assert (_pull_count(client, "app"), _pull_records(client)) == (3, 3)
    artifact = api(client, "GET", "/projects/library/repositories/app/artifacts/v1").json()
    assert artifact["pull_time"] > artifact["push_time"]


def test_a_pull_of_an_artifact_deleted_before_the_flush_is_audited_without_reviving_it(
        client: Client, local_functions: LocalFunctions) -> None:
    image = make_image("deleted")
    push_image(client, "library/app", "v1", image)
    push_image(client, "library/app", "v2", make_image("kept"))
    assert client.request("GET", "/v2/library/app/manifests/v1").status == 200
    assert client.request("DELETE", f"/v2/library/app/manifests/{image.digest}").status == 202
    local_functions.drain()
    assert _pull_records(client) == 1
    assert _pull_count(client, "app") == 1
    assert client.request("GET", f"/v2/library/app/manifests/{image.digest}").status == 404
    listed = api(client, "GET", "/projects/library/repositories/app/artifacts").json()
    assert [a["tags"][0]["name"] for a in listed] == ["v2"]


def test_with_the_cache_on_a_pull_is_still_queued_and_nothing_of_it_lives_in_the_cache_alone(
        client: Client, local_functions: LocalFunctions, cached: RedisServer) -> None:
    push_image(client, "library/app", "v1", make_image("queued"))
    with counting() as usage:
        for _ in range(3):
            assert client.request("GET", "/v2/library/app/manifests/v1").status == 200
    assert not [call for call in usage.calls if call.split(".")[-1].split("(")[0] in _WRITES], usage.calls
    assert usage.calls["sqs.SendMessage"] == 3
    assert cached.client().keys("*pulls*") == []
    local_functions.drain()
    assert (_pull_count(client, "app"), _pull_records(client)) == (3, 3)


def test_pulls_answered_while_redis_hangs_then_dies_are_all_counted(
        client: Client, local_functions: LocalFunctions, cached: RedisServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Redis frozen under pull load (SIGSTOP), then killed: every pull answered 200 has its audit record
    and its count (they used to wait in a Redis stream, and died with it)."""
    push_image(client, "library/app", "v1", make_image("outlives the cache"))
    monkeypatch.setenv("CACHE_TIMEOUT_SECONDS", "0.3")  # a hang is seen quickly (a test of loss, not of time)
    monkeypatch.setenv("CACHE_RETRY_SECONDS", "0")
    aws.reset()
    cache.reset()
    with load(lambda: client.request("GET", "/v2/library/app/manifests/v1").status, threads=4) as pulls:
        pulls.wait_for_more(20)
        cached.freeze()
        pulls.wait_for_more(8)
        cached.stop()  # killed while frozen
        pulls.wait_for_more(8)
    local_functions.drain()
    pulled = pulls.statuses.count(200)
    assert pulled == len(pulls.statuses)
    assert (_pull_count(client, "app"), _pull_records(client)) == (pulled, pulled)


@pytest.fixture
def retry_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A tally a run left behind is moved by the next run (not 120 s later)."""
    monkeypatch.setenv("PULL_RETRY_SECONDS", "0")
    aws.reset()


def test_a_pull_that_can_never_be_written_is_parked_in_the_dead_letter_queue(
        client: Client, local_functions: LocalFunctions, stack: Context) -> None:
    push_image(client, "library/app", "v1", make_image("poison"))
    assert client.request("GET", "/v2/library/app/manifests/v1").status == 200
    # A pull whose audit record DynamoDB refuses (an item above 400 KB): its repository fails each time.
    poison = pulls.new_pull(1, "library", "library/poison", "x" * 500_000, "sha256:" + "0" * 64, "admin")
    pulls.send(poison)
    queue_url = stack.resolve({"Ref": "PullQueue"})
    sqs = boto3.client("sqs", region_name=stack.region)
    # Each failed delivery comes back at once instead of after the queue's 6 minutes.
    sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"VisibilityTimeout": "0"})
    try:
        local_functions.drain()
    finally:
        sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"VisibilityTimeout": "360"})
    assert (_pull_count(client, "app"), _pull_records(client)) == (1, 1)
    dead_letters = _receive_all(stack.resolve({"Ref": "PullDeadLetterQueue"}), stack.region)
    assert [pulls.parse(m["Body"]).record_id for m in dead_letters] == [poison.record_id]
