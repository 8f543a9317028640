"""Labels, global (scope g) or of a project (scope p), and their attachment to artifacts.

Items: the label at PK=LABELS#g or LABELS#p<project_id>, SK=<name> (names unique per scope), a
pointer PK=LABELID#<id> (store/named.py); an attachment at PK=REPO#<repository>, SK=LABEL#<digest>#<label id> with
its reverse PK=LABELED#<label id>, SK=<repository>@<digest>, so deleting a label detaches it everywhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from chalicelib import clock
from chalicelib.errors import Conflict
from chalicelib.store import keys, metadata
from chalicelib.store.named import Named

_NAMED = Named("LABEL")


class LabelExists(Conflict):
    def __init__(self, name: str) -> None:
        super().__init__(f"conflict: the label {name} already exists")


class AlreadyAttached(Conflict):
    def __init__(self, label_name: str) -> None:
        super().__init__(f"conflict: label {label_name} is already on the artifact")


@dataclass(frozen=True)
class Label:
    label_id: int
    name: str
    description: str
    color: str
    scope: str  # g | p
    project_id: int
    creation_time: str
    update_time: str


def _partition(scope: str, project_id: int) -> str:
    return "LABELS#g" if scope == "g" else f"LABELS#p{project_id}"


def _label(item: metadata.Item) -> Label:
    return Label(int(item["label_id"]), item["name"], item.get("description", ""), item.get("color", ""),
                 item["scope"], int(item.get("project_id", 0)), item["creation_time"], item["update_time"])


def create_label(name: str, description: str, color: str, scope: str, project_id: int) -> Label:
    label_id = metadata.next_id("label")
    now = clock.iso()
    label = Label(label_id, name, description, color, scope, project_id if scope == "p" else 0, now, now)
    try:
        metadata.transact(_NAMED.create_ops(label_id, _partition(scope, project_id), name, {
            "label_id": label_id, "name": name, "description": description, "color": color, "scope": scope,
            "project_id": label.project_id, "creation_time": now, "update_time": now}, pointer_partition=True))
    except metadata.ConditionFailed as error:
        raise LabelExists(name) from error
    return label


def get_label(label_id: int) -> Label | None:
    found = _NAMED.locate(label_id)
    item = _NAMED.get(*found) if found else None
    return _label(item) if item else None


def iter_labels(scope: str, project_id: int) -> Iterator[Label]:
    return (_label(i) for i in _NAMED.iterate(_partition(scope, project_id)))


def update_label(label: Label, name: str, description: str, color: str) -> None:
    """Rename (a new item under the new name, atomically) or change description and color."""
    partition = _partition(label.scope, label.project_id)
    now = clock.iso()
    attributes = {"label_id": label.label_id, "name": name, "description": description, "color": color,
                  "scope": label.scope, "project_id": label.project_id, "creation_time": label.creation_time,
                  "update_time": now}
    try:
        metadata.transact(_NAMED.rename_ops(label.label_id, partition, label.name, name, attributes))
    except metadata.ConditionFailed as error:
        raise LabelExists(name) from error


def delete_label(label: Label) -> None:
    for item in metadata.iterate(keys.labeled(label.label_id), attributes=()):
        repository, digest = item["SK"].rsplit("@", 1)
        detach(label.label_id, repository, digest)
    _NAMED.delete(label.label_id, _partition(label.scope, label.project_id), label.name)


def delete_project_labels(project_id: int) -> None:
    """A deleted project's labels go with it."""
    for label in list(iter_labels("p", project_id)):
        delete_label(label)


def attach(label: Label, repository: str, digest: str) -> None:
    label_id = label.label_id
    try:
        metadata.transact([
            metadata.put_op({"PK": keys.repository(repository), "SK": keys.attached_label(digest, label_id),
                             "label_id": label_id, "digest": digest}, if_absent=True),
            metadata.put_op({"PK": keys.labeled(label_id), "SK": f"{repository}@{digest}"}),
        ])
    except metadata.ConditionFailed as error:
        raise AlreadyAttached(label.name) from error


def detach(label_id: int, repository: str, digest: str) -> None:
    metadata.transact([metadata.delete_op(keys.repository(repository), keys.attached_label(digest, label_id)),
                       metadata.delete_op(keys.labeled(label_id), f"{repository}@{digest}")])


def label_ids_by_digest(repository: str) -> dict[str, list[int]]:
    attached: dict[str, list[int]] = {}
    for item in metadata.iterate(keys.repository(repository), keys.LABEL_PREFIX, attributes=("label_id", "digest")):
        attached.setdefault(item["digest"], []).append(int(item["label_id"]))
    return attached


def detach_all(repository: str, digest: str) -> None:
    """Forget every label of an artifact that is being deleted."""
    for item in metadata.iterate(keys.repository(repository), keys.attached_label(digest), attributes=("label_id",)):
        detach(int(item["label_id"]), repository, digest)
