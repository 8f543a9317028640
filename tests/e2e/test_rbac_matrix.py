"""The RBAC matrix through real clients: skopeo pulls and pushes with each caller's credentials on a
public and a private project, and the same callers on /api/v2.0 (semantics 9.1)."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from tests.e2e.conftest import ADMIN, Stack, run
from tests.support.images import make_image, write_layout

PASSWORD = "Matrix123"
# caller -> role id in both projects (None: not a member)
CALLERS = {"admin": None, "projectadmin": 1, "maintainer": 4, "developer": 2, "guest": 3, "limitedguest": 5,
           "nonmember": None, "anonymous": None}
# caller -> (may push, may list members, may delete the repository)
EXPECTED = {"admin": (True, True, True), "projectadmin": (True, True, True), "maintainer": (True, True, True),
            "developer": (True, True, False), "guest": (False, True, False), "limitedguest": (False, False, False),
            "nonmember": (False, False, False), "anonymous": (False, False, False)}


def _credentials(caller: str) -> tuple[str, str] | None:
    return None if caller == "anonymous" else ADMIN if caller == "admin" else (caller, PASSWORD)


@pytest.fixture(scope="module")
def projects(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Path:
    api = f"{stack.url}/api/v2.0"
    for caller in CALLERS:
        if caller not in ("admin", "anonymous"):
            requests.post(f"{api}/users", auth=ADMIN, timeout=30, json={
                "username": caller, "password": PASSWORD, "email": f"{caller}@example.com"}).raise_for_status()
    layout = write_layout(tmp_path_factory.mktemp("rbac") / "image", {"v1": make_image("rbac")})
    for name, public in (("rbac-public", True), ("rbac-private", False)):
        requests.post(f"{api}/projects", auth=ADMIN, timeout=30,
                      json={"project_name": name, "metadata": {"public": str(public).lower()}}).raise_for_status()
        for caller, role in CALLERS.items():
            if role:
                requests.post(f"{api}/projects/{name}/members", auth=ADMIN, timeout=30, json={
                    "role_id": role, "member_user": {"username": caller}}).raise_for_status()
        run("skopeo", "copy", "--dest-tls-verify=false", "--dest-creds", ":".join(ADMIN), f"oci:{layout}:v1",
            f"docker://{stack.host}/{name}/app:v1")
    return layout


def _creds(flag: str, caller: str) -> list[str]:
    credentials = _credentials(caller)
    return [flag, ":".join(credentials)] if credentials else []


def _pulls(caller: str, reference: str) -> bool:
    command = ["skopeo", "inspect", "--tls-verify=false", *_creds("--creds", caller), f"docker://{reference}"]
    return run(*command, check=False).returncode == 0


def _pushes(caller: str, layout: Path, reference: str) -> bool:
    command = ["skopeo", "copy", "--dest-tls-verify=false", *_creds("--dest-creds", caller), f"oci:{layout}:v1",
               f"docker://{reference}"]
    return run(*command, check=False).returncode == 0


@pytest.mark.parametrize("caller", list(CALLERS))
@pytest.mark.parametrize("project", ["rbac-public", "rbac-private"])
def test_matrix(stack: Stack, projects: Path, caller: str, project: str) -> None:
    member = CALLERS[caller] is not None or caller == "admin"
    may_push, may_list_members, may_delete = EXPECTED[caller]
    may_pull = member or project == "rbac-public"
    assert _pulls(caller, f"{stack.host}/{project}/app:v1") is may_pull
    assert _pushes(caller, projects, f"{stack.host}/{project}/{caller}:v1") is may_push

    credentials = _credentials(caller)
    api = f"{stack.url}/api/v2.0/projects/{project}"
    read = requests.get(api, auth=credentials, timeout=30)
    assert read.status_code == (200 if may_pull else 401 if caller == "anonymous" else 403)
    members = requests.get(f"{api}/members", auth=credentials, timeout=30)
    assert (members.status_code == 200) is may_list_members
    if may_push:  # each pushing caller deletes the repository it pushed, if it may
        deleted = requests.delete(f"{api}/repositories/{caller}", auth=credentials, timeout=30)
        assert (deleted.status_code == 200) is may_delete
