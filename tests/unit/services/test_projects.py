"""The project service's rules, on the in-memory table: creation, membership, deletion and what a
deleted project takes with it."""

from __future__ import annotations

import pytest

from chalicelib import labels, projects
from chalicelib.audit import log
from chalicelib.auth import robots, users
from chalicelib.errors import Conflict

DEVELOPER = 2


def _owner() -> users.User:
    return users.create_user("owner", "Passw0rd!")


def _audit() -> list[tuple[str, str, str, str, str]]:
    return [(r.project, r.operation, r.resource_type, r.resource, r.username) for r in log.iter_all()]


def test_a_new_project_is_found_by_name_and_id_with_its_creator_as_project_admin() -> None:
    owner = _owner()
    created = projects.create("team", owner_id=owner.user_id, owner_name="owner", public=False,
                              extra_metadata={"auto_scan": "true"}, by_sysadmin=False)
    assert projects.get_project("team") == created
    assert projects.get_project_by_id(created.project_id) == created
    assert created.metadata == {"public": "false", "auto_scan": "true"}
    assert projects.role_of(created, owner.user_id) == projects.PROJECT_ADMIN_ROLE
    assert projects.roles_by_name(owner.user_id) == {"team": projects.PROJECT_ADMIN_ROLE}
    assert _audit() == [("team", "create", "project", "team", "owner")]


def test_a_taken_name_is_a_conflict_and_changes_nothing() -> None:
    owner = _owner()
    first = projects.create("team", owner_id=owner.user_id, owner_name="owner", public=True,
                            extra_metadata={}, by_sysadmin=False)
    other = users.create_user("other", "Passw0rd!")
    with pytest.raises(projects.ProjectExists) as raised:
        projects.create("team", owner_id=other.user_id, owner_name="other", public=False,
                        extra_metadata={}, by_sysadmin=False)
    assert isinstance(raised.value, Conflict)
    assert projects.get_project("team") == first
    assert projects.roles_by_name(other.user_id) == {}
    assert len(_audit()) == 1


@pytest.mark.parametrize(("name", "valid"), [("team", True), ("a.b-c_d", True), ("0", True), ("Team", False),
                                             ("-team", False), ("team-", False), ("a..b", False), ("", False),
                                             ("x" * 255, True), ("x" * 256, False)])
def test_project_names_follow_harbors_rule(name: str, valid: bool) -> None:
    assert projects.valid_project_name(name) is valid


def test_members_are_added_once_changed_and_removed() -> None:
    owner = _owner()
    project = projects.create("team", owner_id=owner.user_id, owner_name="owner", public=False,
                              extra_metadata={}, by_sysadmin=False)
    dev = users.create_user("dev", "Passw0rd!")
    member = projects.add_member(project, dev.user_id, "dev", DEVELOPER)
    with pytest.raises(projects.MemberExists):
        projects.add_member(project, dev.user_id, "dev", projects.PROJECT_ADMIN_ROLE)
    assert projects.role_of(project, dev.user_id) == DEVELOPER
    projects.set_member_role(member, projects.PROJECT_ADMIN_ROLE)
    assert projects.roles_by_name(dev.user_id) == {"team": projects.PROJECT_ADMIN_ROLE}
    projects.remove_member(member)
    assert projects.role_of(project, dev.user_id) is None
    assert [m.username for m in projects.list_members(project)] == ["owner"]


def test_a_deleted_project_takes_its_members_robots_and_labels_and_frees_its_name() -> None:
    owner = _owner()
    doomed = projects.create("doomed", owner_id=owner.user_id, owner_name="owner", public=False,
                             extra_metadata={}, by_sysadmin=False)
    kept = projects.create("kept", owner_id=owner.user_id, owner_name="owner", public=False,
                           extra_metadata={}, by_sysadmin=False)
    for project in (doomed, kept):
        robots.create_robot(f"robot${project.name}+ci", "", "project", -1, False,
                            [{"kind": "project", "namespace": project.name, "access": []}],
                            {project.name: project.project_id}, "Secret123")
        labels.create_label(f"{project.name}-label", "", "#FFFFFF", "p", project.project_id)
    global_label = labels.create_label("global", "", "#000000", "g", 0)

    assert projects.deletable(doomed) == (True, "")
    projects.delete(doomed, "owner")

    assert projects.get_project("doomed") is None and projects.get_project_by_id(doomed.project_id) is None
    assert projects.roles_by_name(owner.user_id) == {"kept": projects.PROJECT_ADMIN_ROLE}
    assert [r.name for r in robots.iter_robots()] == ["robot$kept+ci"]
    assert [label.name for label in labels.iter_labels("p", doomed.project_id)] == []
    assert [label.name for label in labels.iter_labels("p", kept.project_id)] == ["kept-label"]
    assert labels.get_label(global_label.label_id) == global_label
    assert _audit()[0] == ("doomed", "delete", "project", "doomed", "owner")
    again = projects.create("doomed", owner_id=owner.user_id, owner_name="owner", public=True,
                            extra_metadata={}, by_sysadmin=False)
    assert again.project_id not in (doomed.project_id, kept.project_id)
