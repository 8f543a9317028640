"""First-start state: the token signing key, the admin user, the public project `library` and the
built-in Trivy scanner (the default one)."""

from __future__ import annotations

from chalicelib.auth import tokens, users
from chalicelib.projects import ensure_project
from chalicelib.scan import scanners, trivy


def run() -> None:
    tokens.ensure_signing_key()
    admin = users.ensure_admin()
    ensure_project("library", owner_id=admin.user_id, owner_name=admin.username, public=True)
    scanners.ensure_builtin(trivy.VERSION)
