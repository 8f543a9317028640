"""The pull recorder's writes (store/pulls.py), on the in-memory table: exact counts however a batch
is delivered, 99 records per transaction, and one more to move the batch's counts at once."""

from __future__ import annotations

import json
from dataclasses import asdict, replace

from chalicelib import projects
from chalicelib.audit import log
from chalicelib.auth import users
from chalicelib.registry import pulls
from chalicelib.store import manifests, metadata, repositories
from chalicelib.store.pulls import new_pull
from tests.support.memory_table import MemoryTable


class CountingTable(MemoryTable):
    def __init__(self) -> None:
        super().__init__()
        self.transactions = 0

    def transact(self, writes: list) -> None:  # type: ignore[override]
        self.transactions += 1
        super().transact(writes)


def _pushed(name: str, digest: str) -> None:
    state = manifests.push_state(name, digest, ["v1"], [], [])
    record = manifests.ManifestRecord(digest, "application/vnd.oci.image.manifest.v1+json", 2,
                                      artifact_id=manifests.new_artifact_id())
    manifests.write_push(name, record, state, ["v1"], "2026-01-01T00:00:00.000Z", None, [])


def test_a_batch_is_counted_once_however_often_it_is_delivered(table: MemoryTable) -> None:
    counting = CountingTable()
    metadata.use(counting)  # the fixture puts the table it replaced back
    owner = users.create_user("owner", "Passw0rd!")
    project = projects.create("team", owner_id=owner.user_id, owner_name="owner", public=True,
                              extra_metadata={}, by_sysadmin=False)
    _pushed("team/app", "sha256:" + "a" * 64)
    _pushed("team/app", "sha256:" + "b" * 64)
    batch = [new_pull(project.project_id, "team", "team/app", "v1", "sha256:" + ("a" if i < 250 else "b") * 64,
                      "owner") for i in range(255)]
    messages = {str(i): json.dumps(asdict(pull)) for i, pull in enumerate(batch)}

    before = counting.transactions
    assert pulls.record(messages) == []
    assert counting.transactions - before == 4  # 255 records, 99 per transaction; then the tally's move
    assert pulls.record(dict(list(messages.items())[:100])) == []  # delivered again, in part
    assert pulls.record(messages) == []  # and whole

    assert repositories.get_repository("team/app").pull_count == 255
    assert log.count_all() == 255 + 1  # the pulls, and the project's creation
    assert manifests.manifest("team/app", "sha256:" + "b" * 64).pull_time


def test_two_pulls_given_the_same_record_id_by_two_instances_are_both_counted(table: MemoryTable) -> None:
    owner = users.create_user("owner", "Passw0rd!")
    project = projects.create("team", owner_id=owner.user_id, owner_name="owner", public=True,
                              extra_metadata={}, by_sysadmin=False)
    _pushed("team/app", "sha256:" + "a" * 64)
    first = new_pull(project.project_id, "team", "team/app", "v1", "sha256:" + "a" * 64, "owner")
    # Another instance, in the same millisecond, drew the same 12 random bits: the same id.
    second = new_pull(project.project_id, "team", "team/app", "v1", "sha256:" + "a" * 64, "owner")
    second = replace(second, record_id=first.record_id)
    assert pulls.record({"1": json.dumps(asdict(first)), "2": json.dumps(asdict(second))}) == []
    assert repositories.get_repository("team/app").pull_count == 2
    assert log.count_all() == 2 + 1
