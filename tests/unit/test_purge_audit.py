"""Audit-log purge (Harbor's /system/purgeaudit): what is older than the retention and of the chosen
operations goes, in queued steps run by the job worker; a dry run counts; Harbor's checks and words."""

from __future__ import annotations

import time

import pytest

from chalicelib.store import audit, metadata
from infra.functions import LocalFunctions
from tests.support.client import Client, Reply, api
from tests.support.swagger import validate
from tests.unit.conftest import Configure

DAY_MS = 24 * 3600 * 1000


@pytest.fixture
def small_steps(configure: Configure) -> None:
    """Steps of 7 records: a purge of a few dozen takes several queued steps per shard."""
    configure(AUDIT_PURGE_STEP_RECORDS="7")


def _seed(days_ago: int, operation: str, count: int) -> None:
    """Records as the audit subscribers write them, `days_ago` days old (the id holds the time)."""
    base = (int(time.time() * 1000) - days_ago * DAY_MS) << 12
    for n in range(count):
        item = audit.item(base + n, 1, "library", operation, "artifact", f"library/app:{n}", "admin",
                          audit.new_nonce())
        metadata.transact([metadata.put_op(item),
                           metadata.set_fields_op(*audit.counter_key(item), {}, add={"records": 1})])


def _total(client: Client, query: str = "") -> int:
    return int(api(client, "GET", f"/audit-logs?page_size=1{query}").header("X-Total-Count"))


def _purge(client: Client, local_functions: LocalFunctions, parameters: object) -> Reply:
    reply = api(client, "POST", "/system/purgeaudit/schedule", {"schedule": {"type": "Manual"},
                                                                "parameters": parameters})
    local_functions.drain()
    return reply


def test_old_records_of_the_chosen_operations_go_and_counts_follow(client: Client, local_functions: LocalFunctions,
                                                                   small_steps: None) -> None:
    _seed(10, "create", 30)
    _seed(10, "pull", 25)
    _seed(10, "delete", 5)
    _seed(2, "create", 4)
    assert _total(client) == 64

    started = _purge(client, local_functions, {"audit_retention_hour": 168, "include_operations": "create,PULL",
                                               "dry_run": False})

    assert started.status == 201
    execution_id = int(started.header("Location").rsplit("/", 1)[1])
    execution = api(client, "GET", f"/system/purgeaudit/{execution_id}").json()
    validate(execution, "ExecHistory")
    assert execution["job_status"] == "Success" and execution["job_name"] == "PURGE_AUDIT_LOG"
    assert _total(client) == 9 and _total(client, "&q=operation%3Ddelete") == 5
    listed = api(client, "GET", "/audit-logs?page_size=100").json()
    assert len(listed) == 9
    log = api(client, "GET", f"/system/purgeaudit/{execution_id}/log")
    assert log.status == 200 and log.body.decode().rstrip().endswith("Purged 55 rows of audit logs")


def test_a_dry_run_counts_and_deletes_nothing(client: Client, local_functions: LocalFunctions) -> None:
    _seed(10, "pull", 12)
    started = _purge(client, local_functions, {"audit_retention_hour": 24, "include_operations": "pull",
                                               "dry_run": True})
    execution_id = int(started.header("Location").rsplit("/", 1)[1])
    assert api(client, "GET", f"/system/purgeaudit/{execution_id}/log").body.decode().rstrip().endswith(
        "[DRYRUN]Purged 12 rows of audit logs")
    assert _total(client) == 12


def test_nothing_goes_without_a_retention_or_an_operation(client: Client, local_functions: LocalFunctions) -> None:
    _seed(10, "pull", 3)
    for parameters in ({"audit_retention_hour": 0, "include_operations": "pull"},
                       {"audit_retention_hour": "24", "include_operations": "pull"},  # Harbor's quirk: a string is 0
                       {"audit_retention_hour": 24, "include_operations": "update"}):
        assert _purge(client, local_functions, parameters).status == 201
    assert _total(client) == 3
    assert all(e["job_status"] == "Success" for e in api(client, "GET", "/system/purgeaudit").json())


_MANUAL = {"type": "Manual"}


@pytest.mark.parametrize(("body", "message"), [
    ({"parameters": {"audit_retention_hour": 1}}, "schedule cann't be empty"),
    ({"schedule": _MANUAL}, "schedule parameter cann't be empty"),
    ({"schedule": _MANUAL, "parameters": {"include_operations": "pull"}}, "audit_retention_hour should provide"),
    ({"schedule": _MANUAL, "parameters": {"audit_retention_hour": 1}}, "include_operations should provide"),
    ({"schedule": _MANUAL, "parameters": {"audit_retention_hour": 1.5, "include_operations": "pull"}},
     "failed to convert audit_retention_hour"),
    ({"schedule": _MANUAL, "parameters": {"audit_retention_hour": 240001, "include_operations": "pull"}},
     "audit_retention_hour"),
    ({"schedule": {"type": "Daily", "cron": ""}, "parameters": {"audit_retention_hour": 1,
                                                                 "include_operations": "pull"}},
     "empty cron string for schedule"),
])
def test_harbors_checks(client: Client, body: dict[str, object], message: str) -> None:
    for method in ("POST", "PUT"):
        reply = api(client, method, "/system/purgeaudit/schedule", body)
        assert reply.status == 400 and reply.error_codes == ["BAD_REQUEST"]
        assert message in reply.json()["errors"][0]["message"]
    assert api(client, "GET", "/system/purgeaudit").json() == []


def test_schedule_and_a_scheduled_run(client: Client, local_functions: LocalFunctions) -> None:
    _seed(10, "create", 3)
    body = {"schedule": {"type": "Hourly", "cron": "0 0 * * * *"},
            "parameters": {"audit_retention_hour": 24, "include_operations": "create", "dry_run": False}}
    assert api(client, "PUT", "/system/purgeaudit/schedule", body).status == 200
    saved = api(client, "GET", "/system/purgeaudit/schedule").json()
    validate(saved, "ExecHistory")
    assert saved["schedule"]["type"] == "Hourly" and saved["schedule"]["next_scheduled_time"].endswith(":00:00.000Z")

    from chalicelib.jobs import kernel  # what the EventBridge schedule sends, as the launcher fires it

    kernel.enqueue({"kind": "system_job", "job": "purge_audit"})
    local_functions.drain()

    [execution] = api(client, "GET", "/system/purgeaudit").json()
    assert execution["job_kind"] == "SCHEDULE" and execution["job_status"] == "Success"
    assert _total(client) == 0
    assert api(client, "PUT", "/system/purgeaudit/schedule", {**body, "schedule": {"type": "None"}}).status == 200
    assert api(client, "GET", "/system/purgeaudit/schedule").body == b""


def test_a_stopped_purge_goes_no_further(client: Client, local_functions: LocalFunctions, small_steps: None) -> None:
    _seed(10, "pull", 40)
    started = api(client, "POST", "/system/purgeaudit/schedule", {
        "schedule": {"type": "Manual"}, "parameters": {"audit_retention_hour": 24, "include_operations": "pull"}})
    execution_id = int(started.header("Location").rsplit("/", 1)[1])
    assert api(client, "PUT", f"/system/purgeaudit/{execution_id}").status == 200
    local_functions.drain()
    assert api(client, "GET", f"/system/purgeaudit/{execution_id}").json()["job_status"] == "Stopped"
    assert _total(client) == 40


def test_a_purge_not_heard_from_within_the_deadline_ends_error_and_the_next_one_runs(
        client: Client, local_functions: LocalFunctions, configure: Configure) -> None:
    _seed(10, "pull", 3)
    parameters = {"schedule": {"type": "Manual"},
                  "parameters": {"audit_retention_hour": 24, "include_operations": "pull"}}
    lost = api(client, "POST", "/system/purgeaudit/schedule", parameters)  # its steps never run: a crash
    assert lost.status == 201
    assert api(client, "POST", "/system/purgeaudit/schedule", parameters).status == 409  # within the deadline
    lost_id = int(lost.header("Location").rsplit("/", 1)[1])

    configure(SYSTEM_JOB_STALE_SECONDS="0")  # the deadline has passed
    assert api(client, "GET", f"/system/purgeaudit/{lost_id}").json()["job_status"] == "Error"
    assert "stopped without finishing" in api(client, "GET", f"/system/purgeaudit/{lost_id}/log").body.decode()
    configure(SYSTEM_JOB_STALE_SECONDS="600")
    following = _purge(client, local_functions, parameters["parameters"])
    assert following.status == 201
    following_id = int(following.header("Location").rsplit("/", 1)[1])
    assert api(client, "GET", f"/system/purgeaudit/{following_id}").json()["job_status"] == "Success"
    assert api(client, "GET", f"/system/purgeaudit/{lost_id}").json()["job_status"] == "Error"  # its step did nothing
    assert _total(client) == 0
