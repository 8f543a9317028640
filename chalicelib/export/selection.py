"""The prepare step: which artifacts an export covers (semantics 1.6), as batches in S3.

Repositories match without their project; accessories never appear; an index's children join with
the index's tags and labels; a tag filter keeps untagged artifacts (Harbor's quirk); labels are OR.
Artifacts come out sorted by (repository, digest) and each appears once, so parts written batch by
batch concatenate into a file in the export's row order.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

from chalicelib import projects
from chalicelib.export.criteria import Criteria
from chalicelib.export.patterns import matches
from chalicelib.registry import formats, records
from chalicelib.store import labels, objects


@dataclass(frozen=True)
class Selected:
    project: str
    repository: str
    digest: str
    tags: tuple[str, ...]


def batch_key(execution_id: int, number: int) -> str:
    return f"exports/{execution_id}/batches/{number:06d}.jsonl"


def _candidates(repository: str, criteria: Criteria) -> dict[str, tuple[set[str], set[int]]]:
    """digest -> (tags, label ids) of what Harbor's export lists in the repository."""
    attached = labels.label_ids_by_digest(repository) if criteria.labels else {}
    found: dict[str, tuple[set[str], set[int]]] = {}
    for artifact in records.iter_artifacts(repository):
        if artifact.accessory_of or (artifact.parent_count and not artifact.tags):
            continue
        names, label_ids = {t.name for t in artifact.tags}, set(attached.get(artifact.digest, []))
        digests = [artifact.digest]
        if artifact.manifest_media_type in formats.INDEX_TYPES:
            digests += [reference["child_digest"] for reference in artifact.references]
        for digest in digests:
            tags, ids = found.setdefault(digest, (set(), set()))
            tags |= names
            ids |= label_ids
    return found


def _kept(tags: set[str], label_ids: set[int], criteria: Criteria) -> bool:
    if criteria.tags and tags and not any(matches(criteria.tags, t) for t in tags):
        return False
    return not criteria.labels or bool(label_ids & set(criteria.labels))


def select(project_names: list[str], criteria: Criteria) -> Iterator[Selected]:
    repositories = sorted(name for project in project_names for name in projects.repository_names(project)
                          if matches(criteria.repositories, name.split("/", 1)[1]))
    for repository in repositories:
        found = _candidates(repository, criteria)
        for digest in sorted(found):
            tags, label_ids = found[digest]
            if _kept(tags, label_ids, criteria):
                yield Selected(repository.split("/", 1)[0], repository, digest, tuple(sorted(tags)))


def write_batches(execution_id: int, selected: Iterator[Selected], size: int) -> int:
    """Write the selection to S3 in batches of `size` artifacts; returns the number of batches."""
    batch: list[str] = []
    count = 0
    for item in selected:
        batch.append(json.dumps([item.project, item.repository, item.digest, list(item.tags)]))
        if len(batch) == size:
            objects.put(batch_key(execution_id, count), "\n".join(batch).encode())
            batch, count = [], count + 1
    if batch:
        objects.put(batch_key(execution_id, count), "\n".join(batch).encode())
        count += 1
    return count


def read_batch(execution_id: int, number: int) -> list[Selected]:
    lines = objects.get(batch_key(execution_id, number)).decode().splitlines()
    return [Selected(p, r, d, tuple(t)) for p, r, d, t in (json.loads(line) for line in lines)]
