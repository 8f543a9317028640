"""The audit log's record of each domain event (Harbor's audit operations: create, delete, pull). A
record that cannot be written is logged by the event bus and fails nothing: the change happened."""

from __future__ import annotations

from chalicelib import events
from chalicelib.audit import log


def artifact_created(event: events.ArtifactPushed | events.ArtifactCopied) -> None:
    """A push and a copy both create the artifact under the reference they named."""
    log.write(event.project, "create", "artifact", f"{event.repository}:{event.reference}", event.username)


def artifact_deleted(event: events.ArtifactDeleted) -> None:
    log.write(event.project, "delete", "artifact", f"{event.repository}:{event.digest}", event.username)


def tag_created(event: events.TagCreated) -> None:
    log.write(event.project, "create", "tag", f"{event.repository}:{event.tag}", event.username)


def tag_deleted(event: events.TagDeleted) -> None:
    log.write(event.project, "delete", "tag", f"{event.repository}:{event.tag}", event.username)


def repository_deleted(event: events.RepositoryDeleted) -> None:
    log.write(event.project, "delete", "repository", event.repository, event.username)


def project_created(event: events.ProjectCreated) -> None:
    log.write(event.project, "create", "project", event.project.name, event.username)


def project_deleted(event: events.ProjectDeleted) -> None:
    log.write(event.project, "delete", "project", event.project.name, event.username)
