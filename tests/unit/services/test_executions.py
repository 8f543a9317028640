"""The execution model every job kind shares (store/executions.py), on the in-memory table: ids per
kind, listing newest first per owner, stop only while running, counted tasks, and the sweeper."""

from __future__ import annotations

from chalicelib.store import executions


def test_each_kind_numbers_its_executions_and_lists_them_newest_first_per_owner() -> None:
    first = executions.create("gc", "MANUAL")
    second = executions.create("gc", "SCHEDULE", extra={"dry_run": True})
    mine = executions.create("export", "MANUAL", owner="alice")
    executions.create("export", "MANUAL", owner="bob")
    assert (first.execution_id, second.execution_id, mine.execution_id) == (1, 2, 1)
    assert [r.execution_id for r in executions.newest_first("gc")] == [2, 1]
    assert [r.owner for r in executions.newest_first("export", "alice")] == ["alice"]
    assert executions.get("gc", 2).extra == {"dry_run": True}
    assert (second.status, second.trigger, second.end_time) == (executions.RUNNING, "SCHEDULE", "")


def test_a_running_execution_stops_once_and_an_ended_one_does_not() -> None:
    running = executions.create("gc", "MANUAL")
    ended = executions.create("gc", "MANUAL")
    executions.finish("gc", ended.execution_id, executions.SUCCESS, "freed 3 blobs")
    stopped = executions.stop("gc", running.execution_id)
    assert stopped is not None and stopped.status == executions.STOPPED and stopped.end_time
    assert executions.stopped("gc", running.execution_id)
    assert executions.stop("gc", running.execution_id) is None
    assert executions.stop("gc", ended.execution_id) is None
    assert executions.get("gc", ended.execution_id).status_text == "freed 3 blobs"
    assert not executions.stopped("gc", ended.execution_id)
    assert executions.stop("gc", 99) is None and not executions.stopped("gc", 99)


def test_tasks_are_counted_per_status_while_the_execution_exists() -> None:
    execution = executions.create("scan_all", "MANUAL")
    for status in ("started", "started", "Success", "Error"):
        executions.count_task("scan_all", execution.execution_id, status)
    executions.count_task("scan_all", 42, "Success")  # gone: nothing happens
    assert executions.get("scan_all", execution.execution_id).tasks == {"started": 2, "Success": 1, "Error": 1}
    assert executions.get("scan_all", 42) is None


def test_the_sweeper_keeps_the_newest_ended_executions_that_count_and_forgets_the_rest_first() -> None:
    ids = [executions.create("gc", "MANUAL").execution_id for _ in range(6)]
    for execution_id in ids[:5]:
        executions.finish("gc", execution_id, executions.SUCCESS)
    executions.update("gc", ids[3], hidden=True)
    executions.create("other", "MANUAL")
    forgotten: list[tuple[int, bool]] = []

    def forget(record: executions.ExecutionRecord) -> None:
        forgotten.append((record.execution_id, executions.get("gc", record.execution_id) is not None))

    swept = executions.sweep("gc", keep=2, counted=lambda r: not r.extra.get("hidden"), forget=forget)

    # 6 is running, 4 does not count; 5 and 3 are the newest two that do.
    assert swept == 2 and forgotten == [(2, True), (1, True)]
    assert [r.execution_id for r in executions.newest_first("gc")] == [6, 5, 4, 3]
    assert [r.execution_id for r in executions.newest_first("other")] == [1]
