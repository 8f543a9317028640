"""Garbage collection through Harbor's API, run by the real state machine (moto's ASL interpreter)
calling the task function in-process: what a deleted image leaves is collected, what an image uses is
kept, and a dry run, the time window, untagged artifacts, stop and a refused deletion behave as Harbor's."""

from __future__ import annotations

import json
import threading
from typing import Any

import boto3
import pytest

from chalicelib.config import settings
from chalicelib.jobs import kernel
from chalicelib.store import executions
from infra.functions import LocalFunctions
from tests.support.client import Client, api
from tests.support.emulated_aws import before_s3_deletes, s3_refuses_to_delete
from tests.support.images import Image, make_image, sha256
from tests.support.oci import push_cosign_signature, push_image, upload_blob
from tests.support.swagger import validate
from tests.support.waiting import wait_until
from tests.unit.conftest import Configure


@pytest.fixture
def no_window(configure: Configure) -> None:
    """GC_TIME_WINDOW_HOURS=0: a blob is a candidate as soon as nothing uses it."""
    configure(GC_TIME_WINDOW_HOURS="0")


def _blob_key(digest: str) -> str:
    algorithm, hex_digest = digest.split(":")
    return f"blobs/{algorithm}/{hex_digest[:2]}/{hex_digest}"


def _stored(digest: str) -> bool:
    listing = boto3.client("s3").list_objects_v2(Bucket=settings().bucket_name, Prefix=_blob_key(digest))
    return bool(listing.get("Contents"))


def _digests(image: Image) -> list[str]:
    return [sha256(b) for b in [image.config, *image.layers]]


def _run_gc(client: Client, **parameters: bool) -> dict[str, Any]:
    started = api(client, "POST", "/system/gc/schedule", {"schedule": {"type": "Manual"}, "parameters": parameters})
    assert started.status == 201, started.body
    execution_id = int(started.header("Location").rsplit("/", 1)[1])
    return _ended(client, execution_id)


def _ended(client: Client, execution_id: int) -> dict[str, Any]:
    def ended() -> bool:
        return api(client, "GET", f"/system/gc/{execution_id}").json()["job_status"] != "Running"

    wait_until(ended)
    return api(client, "GET", f"/system/gc/{execution_id}").json()


def _log(client: Client, execution_id: int) -> str:
    reply = api(client, "GET", f"/system/gc/{execution_id}/log")
    assert reply.status == 200 and reply.header("Content-Type").startswith("text/plain")
    return reply.body.decode()


def _pullable(client: Client, name: str, reference: str, image: Image) -> bool:
    if client.request("GET", f"/v2/{name}/manifests/{reference}").status != 200:
        return False
    return all(client.request("GET", f"/v2/{name}/blobs/{d}").status in (200, 307) and _stored(d)
               for d in _digests(image))


def _delete(client: Client, name: str, digest: str) -> None:
    repository = name.split("/", 1)[1].replace("/", "%252F")
    assert api(client, "DELETE", f"/projects/library/repositories/{repository}/artifacts/{digest}").status == 200


def test_a_deleted_images_blobs_are_collected_and_the_kept_images_stay_whole(client: Client, no_window: None) -> None:
    gone, kept = make_image("gone"), make_image("kept")
    assert push_image(client, "library/app", "old", gone).status == 201
    assert push_image(client, "library/app", "new", kept).status == 201
    assert push_image(client, "library/other", "same", kept).status == 201  # the same blobs in a second repository
    _delete(client, "library/app", gone.digest)

    execution = _run_gc(client)

    validate(execution, "GCHistory")
    assert execution["job_status"] == "Success" and execution["job_name"] == "GARBAGE_COLLECTION"
    assert execution["job_kind"] == "MANUAL" and execution["schedule"] == {"type": "Manual"}
    assert not any(_stored(d) for d in _digests(gone))
    assert client.request("HEAD", f"/v2/library/app/blobs/{sha256(gone.layers[0])}").status == 404
    assert _pullable(client, "library/app", "new", kept) and _pullable(client, "library/other", "same", kept)
    log = _log(client, execution["id"])
    assert "2 blobs and 0 manifests deleted" in log and "2 unreferenced blob links deleted" in log
    assert _run_gc(client)["job_status"] == "Success"  # nothing left to collect: a second run changes nothing
    assert _pullable(client, "library/app", "new", kept)


def test_a_dry_run_reports_what_would_go_and_changes_nothing(client: Client, no_window: None) -> None:
    gone = make_image("gone", layer_bytes=5000)
    push_image(client, "library/app", "old", gone)
    _delete(client, "library/app", gone.digest)

    execution = _run_gc(client, dry_run=True)

    assert execution["job_status"] == "Success"
    assert '"dry_run": true' in execution["job_parameters"]
    log = _log(client, execution["id"])
    assert "[DRYRUN]" in log and "2 blobs and 0 manifests eligible for deletion" in log
    assert all(_stored(d) for d in _digests(gone))
    assert client.request("HEAD", f"/v2/library/app/blobs/{sha256(gone.layers[0])}").status == 200


def test_blobs_used_within_the_time_window_are_kept(client: Client) -> None:
    gone = make_image("gone")
    push_image(client, "library/app", "old", gone)
    _delete(client, "library/app", gone.digest)

    execution = _run_gc(client)

    assert '"time_window": 2' in execution["job_parameters"]  # GC_TIME_WINDOW_HOURS' default, as Harbor's
    assert all(_stored(d) for d in _digests(gone))
    assert "0 blobs and 0 manifests deleted" in _log(client, execution["id"])


def test_untagged_artifacts_go_when_asked_but_not_index_children_or_signatures(client: Client,
                                                                               no_window: None) -> None:
    untagged, tagged = make_image("untagged"), make_image("tagged")
    push_image(client, "library/app", untagged.digest, untagged)
    push_image(client, "library/app", "v1", tagged)
    push_cosign_signature(client, "library/app", tagged)

    _run_gc(client)
    assert client.request("HEAD", f"/v2/library/app/manifests/{untagged.digest}").status == 200  # not asked

    execution = _run_gc(client, delete_untagged=True)

    assert client.request("HEAD", f"/v2/library/app/manifests/{untagged.digest}").status == 404
    assert not any(_stored(d) for d in _digests(untagged))
    assert _pullable(client, "library/app", "v1", tagged)
    signature = tagged.digest.replace(":", "-") + ".sig"
    assert client.request("HEAD", f"/v2/library/app/manifests/{signature}").status == 200
    assert "1 untagged artifacts" in _log(client, execution["id"])
    deletes = api(client, "GET", "/audit-logs?page_size=100").json()
    assert any(r["operation"] == "delete" and r["username"] == "harbor-gc" for r in deletes)


def test_a_blob_s3_refuses_is_counted_and_collected_by_the_next_run(client: Client, no_window: None) -> None:
    gone = make_image("gone")
    push_image(client, "library/app", "old", gone)
    _delete(client, "library/app", gone.digest)
    refused = _blob_key(sha256(gone.layers[0]))

    with s3_refuses_to_delete({refused}):
        execution = _run_gc(client)

    assert execution["job_status"] == "Error"  # the run went on: the config blob went
    assert not _stored(sha256(gone.config)) and _stored(sha256(gone.layers[0]))
    log = _log(client, execution["id"])
    assert f"failed to delete {refused}" in log and "1 blobs could not be deleted" in log
    assert _run_gc(client)["job_status"] == "Success"
    assert not _stored(sha256(gone.layers[0]))


def test_a_push_reusing_collected_blobs_uploads_them_again(client: Client, no_window: None) -> None:
    image = make_image("again")
    push_image(client, "library/app", "v1", image)
    _delete(client, "library/app", image.digest)
    _run_gc(client)

    assert push_image(client, "library/app", "v1", image).status == 201
    assert _pullable(client, "library/app", "v1", image)


def test_history_schedule_stop_and_their_errors(client: Client) -> None:
    first = _run_gc(client)
    second = _run_gc(client, dry_run=True)
    listed = api(client, "GET", "/system/gc?page_size=1")
    validate(listed.json(), "GCHistory", many=True)
    assert listed.header("X-Total-Count") == "2" and [e["id"] for e in listed.json()] == [second["id"]]
    assert 'rel="next"' in listed.header("Link")
    oldest_first = api(client, "GET", "/system/gc?sort=creation_time").json()
    assert [e["id"] for e in oldest_first] == [first["id"], second["id"]]
    assert api(client, "GET", "/system/gc?q=job_status%3DSuccess").header("X-Total-Count") == "2"
    assert api(client, "PUT", f"/system/gc/{first['id']}").status == 200  # an ended run stays as it ended
    assert api(client, "GET", f"/system/gc/{first['id']}").json()["job_status"] == "Success"
    assert api(client, "GET", "/system/gc/999").status == 404
    assert api(client, "GET", "/system/gc/999/log").status == 404

    assert api(client, "GET", "/system/gc/schedule").body == b""
    body = {"schedule": {"type": "Daily", "cron": "0 0 3 * * *"}, "parameters": {"delete_untagged": True}}
    assert api(client, "POST", "/system/gc/schedule", body).status == 201
    saved = api(client, "GET", "/system/gc/schedule").json()
    validate(saved, "GCHistory")
    assert saved["schedule"]["type"] == "Daily" and saved["schedule"]["cron"] == "0 0 3 * * *"
    assert saved["schedule"]["next_scheduled_time"].endswith("T03:00:00.000Z")
    assert '"delete_untagged": true' in saved["job_parameters"]
    schedules = boto3.client("scheduler").list_schedules()["Schedules"]
    deployed = boto3.client("scheduler").get_schedule(Name=next(s["Name"] for s in schedules
                                                                if s["Name"].endswith("-gc")))
    assert deployed["ScheduleExpression"] == "cron(0 3 * * ? *)"
    assert api(client, "PUT", "/system/gc/schedule", {"schedule": {"type": "Custom", "cron": ""}}).status == 400
    assert api(client, "PUT", "/system/gc/schedule", {"schedule": {"type": "Custom", "cron": "1 2"}}).status == 400
    assert api(client, "PUT", "/system/gc/schedule", {"schedule": {"type": "Often"}}).status == 400
    assert api(client, "PUT", "/system/gc/schedule", {"schedule": {"type": "None"}}).status == 200
    assert api(client, "GET", "/system/gc/schedule").body == b""


def test_system_admins_only(client: Client) -> None:
    assert api(client, "POST", "/users", {"username": "dev", "email": "dev@example.com", "realname": "Dev",
                                          "password": "Passw0rd!x"}).status == 201
    for method, path in (("GET", "/system/gc"), ("GET", "/system/gc/schedule"), ("GET", "/system/purgeaudit"),
                         ("POST", "/system/gc/schedule")):
        assert api(client, method, path, {"schedule": {"type": "Manual"}}, auth=("dev", "Passw0rd!x")).status == 403
        assert api(client, method, path, {"schedule": {"type": "Manual"}}, auth=None).status == 401


def test_a_push_between_mark_and_sweep_keeps_its_blobs(client: Client, local_functions: LocalFunctions) -> None:
    """The state machine's steps in a chosen order: the mark finds the deleted image's blobs unused, then
    the image is pushed again (its blobs uploaded again: their links went with the mark), then the sweep."""
    image = make_image("back")
    push_image(client, "library/app", "v1", image)
    _delete(client, "library/app", image.digest)
    execution = executions.create("gc", "MANUAL", extra={"parameters": json.dumps(
        {"delete_untagged": False, "dry_run": False, "time_window": 0})})
    step = {"execution_id": execution.execution_id, "request_id": ""}
    started = local_functions.invoke("GcTaskFunction", {**step, "step": "start"})
    for batch in started["batches"]:
        local_functions.invoke("GcTaskFunction", {**step, "step": "mark", "batch": batch})
    assert client.request("HEAD", f"/v2/library/app/blobs/{sha256(image.layers[0])}").status == 404

    assert push_image(client, "library/app", "v1", image).status == 201

    for shard in started["shards"]:
        swept = {"more": True, "after": ""}
        while swept["more"]:
            swept = local_functions.invoke("GcTaskFunction", {**step, "step": "sweep", "shard": shard,
                                                              "after": swept["after"]})
    local_functions.invoke("GcTaskFunction", {**step, "step": "finish"})
    assert api(client, "GET", f"/system/gc/{execution.execution_id}").json()["job_status"] == "Success"
    assert _pullable(client, "library/app", "v1", image)


def test_an_upload_of_bytes_being_deleted_is_refused_then_succeeds(client: Client, no_window: None) -> None:
    """A push of the same bytes arrives while the sweep deletes them: the upload is refused (retryable),
    never linked to bytes about to vanish; once the sweep is done the same upload succeeds."""
    image = make_image("race")
    push_image(client, "library/app", "v1", image)
    _delete(client, "library/app", image.digest)
    layer = image.layers[0]
    refused = []

    def push_same_layer(keys: list[str]) -> None:
        if _blob_key(sha256(layer)) in keys and not refused:
            refused.append(upload_blob(client, "library/app", layer))

    with before_s3_deletes(push_same_layer):
        assert _run_gc(client)["job_status"] == "Success"

    assert refused[0].status == 400 and refused[0].error_codes == ["BLOB_UPLOAD_INVALID"]
    assert not _stored(sha256(layer))
    assert client.request("HEAD", f"/v2/library/app/blobs/{sha256(layer)}").status == 404
    assert push_image(client, "library/app", "v1", image).status == 201
    assert _pullable(client, "library/app", "v1", image)


def test_the_schedule_starts_a_run_with_its_parameters(client: Client, local_functions: LocalFunctions,
                                                       no_window: None) -> None:
    gone = make_image("scheduled")
    push_image(client, "library/app", gone.digest, gone)  # untagged
    body = {"schedule": {"type": "Weekly", "cron": "0 0 0 * * 0"}, "parameters": {"delete_untagged": True}}
    assert api(client, "PUT", "/system/gc/schedule", body).status == 200

    kernel.enqueue({"kind": "system_job", "job": "gc"})  # what the EventBridge schedule sends, as the launcher does
    local_functions.drain()

    [execution] = api(client, "GET", "/system/gc").json()
    assert execution["job_kind"] == "SCHEDULE" and '"delete_untagged": true' in execution["job_parameters"]
    assert execution["schedule"] == {"type": "Weekly"}
    assert _ended(client, execution["id"])["job_status"] == "Success"
    assert client.request("HEAD", f"/v2/library/app/manifests/{gone.digest}").status == 404


def test_a_stop_is_honoured_between_batches_and_the_next_run_finishes(client: Client, no_window: None) -> None:
    images = [make_image(f"stop{n}") for n in range(6)]
    for n, image in enumerate(images):
        push_image(client, "library/app", f"v{n}", image)
        _delete(client, "library/app", image.digest)
    stopped: list[int] = []
    first = threading.Lock()  # the sweep's tasks run side by side

    def stop_at_the_first_deletion(keys: list[str]) -> None:
        with first:
            if not stopped:
                execution_id = api(client, "GET", "/system/gc").json()[0]["id"]
                stopped.append(api(client, "PUT", f"/system/gc/{execution_id}").status)

    with before_s3_deletes(stop_at_the_first_deletion):
        execution = _run_gc(client)

    assert stopped == [200] and execution["job_status"] == "Stopped"  # at once; the tasks in flight end theirs
    wait_until(lambda: "garbage collection was stopped" in _log(client, execution["id"]), 120)
    left = [d for image in images for d in _digests(image) if _stored(d)]
    assert left  # the ranges after the stop were not swept (12 random digests over 16 ranges, 4 swept at once)
    assert _run_gc(client)["job_status"] == "Success"
    assert not any(_stored(d) for image in images for d in _digests(image))


def test_a_collection_whose_state_machine_died_ends_error_and_the_next_one_runs(client: Client,
                                                                                 no_window: None) -> None:
    """The worker gone mid-sweep (its state machine aborted, as a crash of the local stack loses it): the
    execution must not read Running forever and refuse every later run with 409."""
    image = make_image("orphaned")
    push_image(client, "library/app", "v1", image)
    _delete(client, "library/app", image.digest)
    states = boto3.client("stepfunctions")
    aborted: list[str] = []

    def abort() -> None:
        running = states.list_executions(stateMachineArn=settings().gc_state_machine_arn,
                                         statusFilter="RUNNING")["executions"]
        for execution in running:
            states.stop_execution(executionArn=execution["executionArn"])
            aborted.append(execution["executionArn"])

    def abort_the_state_machine(keys: list[str]) -> None:
        if not aborted:  # from a thread of the test's, not as the task function (tests/support/permissions.py)
            thread = threading.Thread(target=abort)
            thread.start()
            thread.join()

    with before_s3_deletes(abort_the_state_machine):
        started = api(client, "POST", "/system/gc/schedule", {"schedule": {"type": "Manual"}, "parameters": {}})
        assert started.status == 201
        wait_until(lambda: bool(aborted), 120)
    lost_id = int(started.header("Location").rsplit("/", 1)[1])

    assert _ended(client, lost_id)["job_status"] == "Error"
    assert "stopped without finishing" in _log(client, lost_id)
    following = _run_gc(client)
    assert following["job_status"] == "Success" and following["id"] == lost_id + 1
    assert not any(_stored(d) for d in _digests(image))
