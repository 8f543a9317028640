"""Labels and robot accounts, on the in-memory table: names unique per scope, attaching once, and a
robot's secret, expiry and disabling as its login sees them."""

from __future__ import annotations

import pytest

from chalicelib import labels
from chalicelib.auth import robots


def test_label_names_are_unique_per_scope_and_renames_keep_them_so() -> None:
    first = labels.create_label("prod", "", "#FF0000", "g", 0)
    with pytest.raises(labels.LabelExists):
        labels.create_label("prod", "again", "#00FF00", "g", 0)
    in_project = labels.create_label("prod", "", "#0000FF", "p", 7)
    other = labels.create_label("stage", "", "#0000FF", "g", 0)
    with pytest.raises(labels.LabelExists):
        labels.update_label(other, "prod", "", "#0000FF")
    labels.update_label(other, "qa", "renamed", "#123456")
    assert [(label.name, label.description) for label in labels.iter_labels("g", 0)] == [("prod", ""),
                                                                                          ("qa", "renamed")]
    assert labels.get_label(first.label_id) == first
    assert labels.get_label(in_project.label_id) == in_project
    assert labels.create_label("stage", "", "", "g", 0).name == "stage"  # the old name is free again


def test_a_label_is_attached_once_and_a_deleted_label_leaves_every_artifact() -> None:
    label = labels.create_label("prod", "", "", "g", 0)
    kept = labels.create_label("kept", "", "", "g", 0)
    labels.attach(label, "team/app", "sha256:aa")
    labels.attach(label, "team/app", "sha256:bb")
    labels.attach(kept, "team/app", "sha256:aa")
    with pytest.raises(labels.AlreadyAttached):
        labels.attach(label, "team/app", "sha256:aa")
    assert labels.label_ids_by_digest("team/app") == {"sha256:aa": [label.label_id, kept.label_id],
                                                      "sha256:bb": [label.label_id]}
    labels.delete_label(label)
    assert labels.get_label(label.label_id) is None
    assert labels.label_ids_by_digest("team/app") == {"sha256:aa": [kept.label_id]}
    labels.detach_all("team/app", "sha256:aa")
    assert labels.label_ids_by_digest("team/app") == {}


def _robot(name: str, *, duration: int = robots.NEVER, disabled: bool = False) -> robots.Robot:
    return robots.create_robot(name, "", "project", duration, disabled,
                               [{"kind": "project", "namespace": "team",
                                 "access": [{"resource": "repository", "action": "pull"}]}],
                               {"team": 3}, "Secret123Secret")


def test_a_robot_logs_in_with_its_secret_while_enabled_and_unexpired() -> None:
    robot = _robot("robot$team+ci")
    assert robots.check_credentials("robot$team+ci", "Secret123Secret") == robot
    assert robots.check_credentials("robot$team+ci", "wrong") is None
    assert robots.check_credentials("robot$team+nobody", "Secret123Secret") is None
    assert robot.namespaces() == {3: frozenset({("repository", "pull")})}
    robots.set_secret(robot, "Another456Secret")
    assert robots.check_credentials("robot$team+ci", "Secret123Secret") is None
    assert robots.check_credentials("robot$team+ci", "Another456Secret").robot_id == robot.robot_id
    robots.update_robot(robot, description="", disabled=True, duration=robots.NEVER,
                        permissions=robot.permissions, project_ids=robot.project_ids)
    assert robots.check_credentials("robot$team+ci", "Another456Secret") is None
    with pytest.raises(robots.RobotExists):
        _robot("robot$team+ci")


def test_an_expired_robot_cannot_log_in() -> None:
    robot = _robot("robot$team+old", duration=1)
    assert robots.check_credentials("robot$team+old", "Secret123Secret") == robot
    robots.update_robot(robot, description="", disabled=False, duration=0, permissions=robot.permissions,
                        project_ids=robot.project_ids)  # 0 days: expired as of its creation
    assert robots.check_credentials("robot$team+old", "Secret123Secret") is None
    assert robots.expiry(2, 1000) == 1000 + 2 * 86400 and robots.expiry(robots.NEVER, 1000) == robots.NEVER
