"""Domain events: services publish what happened; subscribers react (chalicelib/subscriptions.py says
which). Delivery is in-process and synchronous, after the change is stored: a subscriber that fails is
logged and fails neither the publisher nor the other subscribers, since what happened happened.
Audit records, scan on push, pull bookkeeping and a deleted project's robots and labels are
subscribers; replication triggers, webhooks and cache invalidation are meant to be more of them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalicelib.observability import logger
from chalicelib.store.projects import Project


@dataclass(frozen=True)
class ArtifactPushed:
    project: Project
    repository: str
    reference: str  # as pushed: a tag or the digest
    digest: str
    username: str
    registry_url: str  # the registry's address as the client named it (a scanner pulls from it)


@dataclass(frozen=True)
class ArtifactCopied:
    project: Project
    repository: str  # the target
    reference: str  # the source's reference, as the copy named it
    username: str


@dataclass(frozen=True)
class ArtifactPulled:
    project: Project
    repository: str
    reference: str
    digest: str
    username: str


@dataclass(frozen=True)
class ArtifactDeleted:
    project: Project
    repository: str
    digest: str
    username: str


@dataclass(frozen=True)
class TagCreated:
    project: Project
    repository: str
    tag: str
    username: str


@dataclass(frozen=True)
class TagDeleted:
    project: Project
    repository: str
    tag: str
    username: str


@dataclass(frozen=True)
class RepositoryDeleted:
    project: Project
    repository: str
    username: str


@dataclass(frozen=True)
class ProjectCreated:
    project: Project
    username: str


@dataclass(frozen=True)
class ProjectDeleted:
    project: Project
    username: str


Subscriber = Callable[[Any], None]


def publish(event: object) -> None:
    from chalicelib.subscriptions import SUBSCRIBERS  # the wiring imports the subscribers, which import this

    for subscriber in SUBSCRIBERS.get(type(event), ()):
        try:
            subscriber(event)
        except Exception:
            logger.exception("event subscriber failed",
                             extra={"event": type(event).__name__, "subscriber": subscriber.__qualname__})
