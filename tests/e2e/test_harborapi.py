"""The harborapi client (PyPI) drives a whole scenario against the local stack, and the raw answers
validate against Harbor 2.6's swagger definitions."""

from __future__ import annotations

import asyncio
from pathlib import Path

import requests
from harborapi import HarborAsyncClient
from harborapi.models import Label, ProjectMetadata, ProjectReq, UserCreationReq

from tests.e2e.conftest import ADMIN, Stack, run
from tests.support.images import make_image, write_layout
from tests.support.swagger import validate

MEMBER = ("member1", "Member1Pass")


def _client(stack: Stack, credentials: tuple[str, str]) -> HarborAsyncClient:
    return HarborAsyncClient(url=f"{stack.url}/api/v2.0", username=credentials[0], secret=credentials[1])


async def _scenario(stack: Stack, tmp_path: Path) -> None:
    admin, member = _client(stack, ADMIN), _client(stack, MEMBER)
    await admin.create_user(UserCreationReq(username=MEMBER[0], password=MEMBER[1], email="m1@example.com",
                                            realname="Member One"))
    await admin.create_project(ProjectReq(project_name="scenario", metadata=ProjectMetadata(public="false")))
    await admin.add_project_member_user("scenario", MEMBER[0], 2)  # developer

    image = make_image("harborapi")
    source = write_layout(tmp_path / "src", {"v1": image})
    run("skopeo", "copy", "--dest-tls-verify=false", "--dest-creds", ":".join(MEMBER), f"oci:{source}:v1",
        f"docker://{stack.host}/scenario/app:v1")

    repositories = await member.get_repositories("scenario")
    assert [r.name for r in repositories] == ["scenario/app"] and repositories[0].artifact_count == 1
    artifacts = await member.get_artifacts("scenario", "app")
    assert artifacts[0].digest == image.digest and [t.name for t in artifacts[0].tags] == ["v1"]
    label_location = await admin.create_label(Label(name="reviewed", color="#00AA00", scope="g"))
    label_id = int(label_location.rsplit("/", 1)[1])
    await member.add_artifact_label("scenario", "app", "v1", Label(id=label_id))
    labelled = await member.get_artifact("scenario", "app", "v1", with_label=True)
    assert [lb.name for lb in labelled.labels] == ["reviewed"]
    logs = await member.get_project_logs("scenario")
    assert ("create", "scenario/app:v1", MEMBER[0]) in {(x.operation, x.resource, x.username) for x in logs}
    assert (await member.get_current_user()).username == MEMBER[0]

    _validate_raw_answers(stack)

    await admin.delete_repository("scenario", "app")
    await admin.delete_project("scenario")
    assert not await admin.project_exists("scenario")


def _validate_raw_answers(stack: Stack) -> None:
    def get(path: str) -> object:
        reply = requests.get(f"{stack.url}/api/v2.0{path}", auth=ADMIN, timeout=30)
        assert reply.status_code == 200, (path, reply.text)
        return reply.json()

    validate(get("/projects/scenario"), "Project")
    validate(get("/projects"), "Project", many=True)
    validate(get("/projects/scenario/summary"), "ProjectSummary")
    validate(get("/users"), "UserResp", many=True)
    validate(get("/projects/scenario/members"), "ProjectMemberEntity", many=True)
    validate(get("/projects/scenario/repositories"), "Repository", many=True)
    validate(get("/projects/scenario/repositories/app/artifacts?with_label=true"), "Artifact", many=True)
    validate(get("/labels?scope=g"), "Label", many=True)
    validate(get("/audit-logs"), "AuditLog", many=True)
    validate(get("/systeminfo"), "GeneralInfo")
    validate(get("/health"), "OverallHealthStatus")


def test_harborapi_scenario(stack: Stack, tmp_path: Path) -> None:
    asyncio.run(_scenario(stack, tmp_path))
