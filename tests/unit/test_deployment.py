"""What a deployment needs that the local stack would not show: the Lambda runtime (the resumable
hashing loads on Python 3.12 and newer; without libcrypto chunked uploads fail clearly, not the API's
import), schedule names of its own, and an admin password nobody knows."""

from __future__ import annotations

import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from chalicelib import aws, schedules
from chalicelib.auth import users
from chalicelib.config import settings
from chalicelib.registry import digests
from infra import functions, resources

ROOT = Path(__file__).resolve().parents[2]
RESUME = """
import hashlib, sys
sys.path.insert(0, {root!r})
from chalicelib.registry.digests import ResumableHash
first = ResumableHash("sha256")
first.update(b"abc")
resumed = ResumableHash("sha256", first.state())
resumed.update(b"def")
assert resumed.digest() == "sha256:" + hashlib.sha256(b"abcdef").hexdigest()
print(sys.version_info[:2])
"""


def _runtime_version() -> tuple[int, int]:
    runtime = resources.load_template()["Globals"]["Function"]["Runtime"]
    return tuple(int(part) for part in runtime.removeprefix("python").split("."))  # type: ignore[return-value]


def _interpreters(at_least: tuple[int, int]) -> list[str]:
    """Pythons on this machine at least as new as the runtime (PATH, then pyenv's versions)."""
    found = [shutil.which(f"python3.{minor}") for minor in range(at_least[1], 16)]
    pyenv = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    found += sorted(glob.glob(f"{pyenv}/versions/3.*/bin/python3"))
    usable = []
    for path in filter(None, found):
        version = subprocess.run([path, "-c", "import sys; print(*sys.version_info[:2])"], capture_output=True,
                                 text=True, check=False).stdout.split()
        if len(version) == 2 and tuple(map(int, version)) >= at_least:
            usable.append(path)
    return usable


def test_the_deployment_runs_a_current_python() -> None:
    assert _runtime_version() >= (3, 12)


def test_resumable_hashing_loads_on_the_runtime_python_and_newer() -> None:
    interpreters = _interpreters(_runtime_version())
    assert interpreters, "a Python at least as new as the Lambda runtime is needed to check the hashing"
    for interpreter in interpreters:
        result = subprocess.run([interpreter, "-c", RESUME.format(root=str(ROOT))], capture_output=True, text=True,
                                check=False)
        assert result.returncode == 0, (interpreter, result.stderr)


def test_without_libcrypto_uploads_fail_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(digests, "_LIBCRYPTO_CANDIDATES", ("libcrypto-that-is-not-here.so",))
    digests._libcrypto.cache_clear()
    try:
        with pytest.raises(digests.HashingUnavailable, match="needs OpenSSL's libcrypto"):
            digests.ResumableHash("sha256")
        assert digests.digest_of(b"x") == "sha256:" + hashlib.sha256(b"x").hexdigest()  # the rest still works
    finally:
        digests._libcrypto.cache_clear()


def test_pythons_own_libcrypto_is_enough(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(digests, "_LIBCRYPTO_CANDIDATES", (digests._LIBCRYPTO_CANDIDATES[-1],))
    digests._libcrypto.cache_clear()
    try:
        hashed = digests.ResumableHash("sha256")
        hashed.update(b"abc")
        assert hashed.digest() == "sha256:" + hashlib.sha256(b"abc").hexdigest()
    finally:
        digests._libcrypto.cache_clear()


def test_every_schedule_is_named_after_the_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    template = resources.load_template()
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["SCHEDULE_NAME_PREFIX"] == {"Ref": "Prefix"}
    for props in resources.Context(template, "us-east-1", "123456789012").functions().values():
        for event in (props.get("Events") or {}).values():
            if event["Type"] == "ScheduleV2":
                assert event["Properties"]["Name"]["Fn::Sub"].startswith("${Prefix}-")
    names = []
    for prefix in ("stack-a", "stack-b"):
        monkeypatch.setenv("SCHEDULE_NAME_PREFIX", prefix)
        settings.cache_clear()
        names.append(schedules.deployed_name("scan-all"))
    settings.cache_clear()
    assert names == ["stack-a-scan-all", "stack-b-scan-all"]


@pytest.mark.usefixtures("own_emulator")
def test_a_deployed_stack_gets_a_generated_admin_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HARBOR_ADMIN_PASSWORD")
    with mock_aws():
        aws.reset()
        context = resources.local_context("us-east-1")
        resources.create_all(context)
        for name, value in context.environment().items():
            monkeypatch.setenv(name, value)
        settings.cache_clear()
        generated = boto3.client("secretsmanager").get_secret_value(
            SecretId=settings().admin_password_secret)["SecretString"]
        functions.LocalFunctions(context).invoke("BootstrapFunction", {})  # with that function's role
        assert users.check_credentials("admin", generated) is not None
        assert users.check_credentials("admin", "Harbor12345") is None
    aws.reset()


def test_no_password_means_no_admin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HARBOR_ADMIN_PASSWORD")
    monkeypatch.delenv("ADMIN_PASSWORD_SECRET", raising=False)
    settings.cache_clear()
    with pytest.raises(RuntimeError, match="no initial admin password"):
        users._initial_admin_password()
    settings.cache_clear()


STATE_MACHINES = {name: r["Properties"] for name, r in resources.load_template()["Resources"].items()
                  if r["Type"] == "AWS::Serverless::StateMachine"}


@pytest.mark.parametrize("name", sorted(STATE_MACHINES))
def test_each_state_machine_definition_is_valid_and_deployed(stack: resources.Context, name: str) -> None:
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    props = STATE_MACHINES[name]
    definition = (resources.TEMPLATE.parent / props["DefinitionUri"].replace("./", "", 1)).read_text()
    placeholders = set(re.findall(r"\$\{(\w+)\}", definition))
    assert placeholders == set(props["DefinitionSubstitutions"])
    for placeholder, value in props["DefinitionSubstitutions"].items():
        definition = definition.replace("${" + placeholder + "}", str(stack.resolve(value)))
    AmazonStateLanguageParser.parse(definition)  # raises on an invalid definition
    states = json.loads(definition)["States"]
    targets = {s.get("Next") for s in states.values()} | {s.get("Default") for s in states.values()} | {
        c["Next"] for s in states.values() for c in s.get("Catch", []) + s.get("Choices", [])}
    assert targets - {None} <= set(states)
    deployed = boto3.client("stepfunctions").list_state_machines()["stateMachines"]
    assert stack.resolve(props["Name"]) in [m["name"] for m in deployed]
