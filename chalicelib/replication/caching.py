"""The proxy cache's queued job: store what a pull of a proxy-cache project was served from upstream
(replication/proxy.py), as a replication copy does: the blobs the project lacks, then the manifest under
its tag."""

from __future__ import annotations

from typing import Any

from chalicelib.observability import logger
from chalicelib.projects import get_project_by_id
from chalicelib.replication import endpoints, registries
from chalicelib.replication.copy import Transfer
from chalicelib.replication.proxy import OPERATOR, upstream_repository


def cache_artifact(message: dict[str, Any]) -> None:
    """The queued job: store what a pull was served from upstream (blobs, then the manifest and its tag)."""
    project = get_project_by_id(int(message["project_id"]))
    if project is None or not project.registry_id:
        return
    remote = registries.remote(registries.get(project.registry_id))
    name = message["repository"]
    lines: list[str] = []
    transfer = Transfer(endpoints.Remote(remote.client, None), endpoints.Local(OPERATOR), lines.append)
    tag = message.get("tag") or ""
    transfer.artifact(upstream_repository(project, name), message["digest"], name, [tag] if tag else [],
                      override=True)
    logger.info("proxy cache stored an artifact", extra={"repository": name, "digest": message["digest"],
                                                         "blobs_sent": transfer.blobs_sent, "log": lines})
