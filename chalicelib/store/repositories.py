"""The catalog: one record per repository at PK=CATALOG, SK=<name> (its id, counts, description and
times), so the catalog and a project's repositories page with a Query. Everything else of a
repository lives in its partition PK=REPO#<name> (store/manifests.py, store/blobs.py, store/labels.py)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from chalicelib import clock
from chalicelib.store import cache, keys, manifests, metadata


@dataclass(frozen=True)
class Repository:
    name: str
    repository_id: int
    artifact_count: int
    pull_count: int
    description: str
    creation_time: str
    update_time: str

    @property
    def project_name(self) -> str:
        return self.name.split("/", 1)[0]


def _repository(item: metadata.Item) -> Repository:
    return Repository(item["SK"], int(item.get("repository_id", 0)), int(item.get("artifact_count", 0)),
                      int(item.get("pull_count", 0)), item.get("description", ""), item.get("created", ""),
                      item.get("updated", ""))


def get_repository(name: str) -> Repository | None:
    item = metadata.get(keys.CATALOG, name)
    return _repository(item) if item else None


def iter_repositories(prefix: str = "", *, descending: bool = False) -> Iterator[Repository]:
    return (_repository(i) for i in metadata.iterate(keys.CATALOG, prefix, descending=descending))


def repository_names(project_name: str, limit: int | None = None) -> list[str]:
    """The names of a project's repositories, in name order (at most `limit`)."""
    items, _ = metadata.query(keys.CATALOG, f"{project_name}/", limit=limit, attributes=[])
    return [i["SK"] for i in items]


def name_page(limit: int, after: str | None) -> tuple[list[str], bool]:
    """Up to `limit` repository names after `after`, and whether more remain."""
    items, more = metadata.query(keys.CATALOG, after=after or None, limit=limit, attributes=[])
    return [i["SK"] for i in items], more is not None


def set_description(name: str, description: str) -> None:
    metadata.set_fields(keys.CATALOG, name, {"description": description, "updated": clock.iso()})


def delete_repository(name: str) -> None:
    """The repository leaves the catalog first (invisible at once), then every item of it goes, with
    the label index entries of its artifacts."""
    metadata.delete(keys.CATALOG, name)
    metadata.batch_delete((keys.labeled(int(i["label_id"])), f"{name}@{i['digest']}")
                          for i in metadata.iterate(keys.repository(name), keys.LABEL_PREFIX,
                                                    attributes=("label_id", "digest")))
    metadata.batch_delete((i["PK"], i["SK"]) for i in metadata.iterate(keys.repository(name), attributes=()))
    cache.invalidate([manifests.repository_scope(name)])
