"""First-start state: the token signing key, the admin user and the public project `library`."""

from __future__ import annotations

from chalicelib.auth import tokens, users
from chalicelib.projects import ensure_project


def run() -> None:
    tokens.ensure_signing_key()
    admin = users.ensure_admin()
    ensure_project("library", owner_id=admin.user_id, owner_name=admin.username, public=True)
