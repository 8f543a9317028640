"""The user service's rules, on the in-memory table: credentials, the password policy, who may change a
password, which accounts cannot be deleted and what a deleted account takes with it."""

from __future__ import annotations

import dataclasses

import pytest

from chalicelib import projects
from chalicelib.auth import users
from chalicelib.errors import DomainError, Invalid


def test_credentials_are_checked_against_the_stored_hash_only() -> None:
    created = users.create_user("alice", "Passw0rd!", email="a@example.com")
    assert users.check_credentials("alice", "Passw0rd!") == created
    assert users.check_credentials("alice", "passw0rd!") is None
    assert users.check_credentials("nobody", "Passw0rd!") is None
    assert "Passw0rd!" not in repr(dataclasses.asdict(created))
    with pytest.raises(users.UserExists):
        users.create_user("alice", "0therPass", email="b@example.com")
    assert users.check_credentials("alice", "Passw0rd!") == created


def test_changing_ones_own_password_needs_the_old_one_and_a_new_one_meeting_the_policy() -> None:
    alice = users.create_user("alice", "Passw0rd!")
    refusals = [("Passw0rd!", "wrong0ne!A", "FORBIDDEN"), ("Passw0rd!", "Passw0rd!", "BAD_REQUEST"),
                ("short1A", "Passw0rd!", "BAD_REQUEST"), ("nodigitsA", "Passw0rd!", "BAD_REQUEST"),
                (None, None, "BAD_REQUEST")]
    for new, old, code in refusals:
        with pytest.raises(DomainError) as raised:
            users.change_password(alice, new, old, by_user_id=alice.user_id)
        assert raised.value.code == code
    assert users.check_credentials("alice", "Passw0rd!") == alice
    users.change_password(alice, "N3wPassword", "Passw0rd!", by_user_id=alice.user_id)
    assert users.check_credentials("alice", "Passw0rd!") is None
    assert users.check_credentials("alice", "N3wPassword").user_id == alice.user_id


def test_an_admin_sets_anothers_password_without_the_old_one_but_not_against_the_policy() -> None:
    admin = users.ensure_admin()
    bob = users.create_user("bob", "Passw0rd!")
    with pytest.raises(Invalid):
        users.change_password(bob, "weak", None, by_user_id=admin.user_id)
    users.change_password(bob, "Reset1234", None, by_user_id=admin.user_id)
    assert users.check_credentials("bob", "Reset1234").user_id == bob.user_id


def test_the_admin_is_created_once_as_the_first_user_with_the_configured_password() -> None:
    admin = users.ensure_admin()
    assert (admin.user_id, admin.username, admin.sysadmin) == (1, "admin", True)
    assert users.ensure_admin() == admin
    assert users.check_credentials("admin", "Harbor12345") == admin
    assert [u.username for u in users.iter_users()] == ["admin"]


def test_the_admin_and_ones_own_account_cannot_be_deleted() -> None:
    admin = users.ensure_admin()
    carol = users.create_user("carol", "Passw0rd!", sysadmin=True)
    for target, by in ((admin, carol.user_id), (carol, carol.user_id)):
        with pytest.raises(DomainError) as raised:
            users.delete_user(target, by_user_id=by)
        assert raised.value.code == "FORBIDDEN"
    assert {u.username for u in users.iter_users()} == {"admin", "carol"}


def test_a_deleted_user_can_no_longer_log_in_and_leaves_every_project() -> None:
    admin = users.ensure_admin()
    dave = users.create_user("dave", "Passw0rd!", email="d@example.com")
    project = projects.create("team", owner_id=admin.user_id, owner_name="admin", public=False, extra_metadata={},
                              by_sysadmin=True)
    projects.add_member(project, dave.user_id, "dave", 2)
    assert users.email_taken("d@example.com") and not users.email_taken("d@example.com", dave.user_id)

    users.delete_user(dave, by_user_id=admin.user_id)

    assert users.check_credentials("dave", "Passw0rd!") is None
    assert users.get_user("dave") is None and users.get_user_by_id(dave.user_id) is None
    assert projects.roles_by_name(dave.user_id) == {}
    assert [m.username for m in projects.list_members(project)] == ["admin"]
    assert not users.email_taken("d@example.com")
    assert users.create_user("dave", "Passw0rd!").user_id != dave.user_id
