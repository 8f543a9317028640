"""Which subscribers react to which domain event (chalicelib/events.py), in the order they run.
A new reaction (a replication trigger, a webhook, a cache invalidation) is a new entry here; the
services that publish do not change."""

from __future__ import annotations

from chalicelib import events, labels
from chalicelib.audit import subscribers as audit
from chalicelib.auth import robots
from chalicelib.registry import pulls
from chalicelib.replication import triggers
from chalicelib.scan import jobs


def _forget_project_robots(event: events.ProjectDeleted) -> None:
    robots.delete_project_robots(event.project.project_id)  # Harbor deletes them with the project


SUBSCRIBERS: dict[type, tuple[events.Subscriber, ...]] = {
    events.ArtifactPushed: (audit.artifact_created, jobs.scan_on_push, triggers.on_push),
    events.ArtifactCopied: (audit.artifact_created,),
    # Queued: the pull's audit record, count and time are written in batches (registry/pulls.py).
    events.ArtifactPulled: (pulls.buffer,),
    events.ArtifactDeleted: (audit.artifact_deleted, triggers.on_delete),
    events.TagCreated: (audit.tag_created,),
    events.TagDeleted: (audit.tag_deleted,),
    events.RepositoryDeleted: (audit.repository_deleted,),
    events.ProjectCreated: (audit.project_created,),
    events.ProjectDeleted: (_forget_project_robots, labels.forget_project_labels, audit.project_deleted),
}
