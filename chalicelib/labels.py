"""Labels, global or of a project, attached to artifacts (Harbor's labels). Kept by
chalicelib/store/labels.py, whose records and operations this module passes on; a deleted project's
labels go with it (subscriptions.py)."""

from __future__ import annotations

from chalicelib import events
from chalicelib.store.labels import (
    AlreadyAttached,
    Label,
    LabelExists,
    attach,
    create_label,
    delete_label,
    delete_project_labels,
    detach,
    detach_all,
    get_label,
    iter_labels,
    label_ids_by_digest,
    update_label,
)

__all__ = ["AlreadyAttached", "Label", "LabelExists", "attach", "create_label", "delete_label", "detach",
           "detach_all", "get_label", "iter_labels", "label_ids_by_digest", "update_label"]


def forget_project_labels(event: events.ProjectDeleted) -> None:
    delete_project_labels(event.project.project_id)
