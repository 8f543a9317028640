"""skopeo against the local stack: OCI layout -> registry -> back, v2s2 conversion, inspect,
list-tags, delete, and anonymous pulls from the public project."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.conftest import Stack, run
from tests.support.images import make_image, read_layout_blob, sha256, write_layout

CREDS = "admin:Harbor12345"


def _copy(source: str, destination: str, *flags: str) -> None:
    run("skopeo", "copy", "--src-tls-verify=false", "--dest-tls-verify=false", *flags, source, destination)


def test_push_pull_round_trip_keeps_every_byte(stack: Stack, tmp_path: Path) -> None:
    image = make_image("skopeo-round-trip", 3 * 1024 * 1024)
    source = write_layout(tmp_path / "src", {"v1": image})
    _copy(f"oci:{source}:v1", f"docker://{stack.host}/library/round:v1", "--dest-creds", CREDS)
    back = tmp_path / "back"
    _copy(f"docker://{stack.host}/library/round:v1", f"oci:{back}:v1", "--src-creds", CREDS)
    index = json.loads((back / "index.json").read_text())
    assert index["manifests"][0]["digest"] == image.digest
    for blob in [image.config, *image.layers, image.manifest]:
        assert sha256(read_layout_blob(back, sha256(blob))) == sha256(blob)


def test_anonymous_pull_from_public_project(stack: Stack, tmp_path: Path) -> None:
    image = make_image("anonymous")
    source = write_layout(tmp_path / "src", {"v1": image})
    _copy(f"oci:{source}:v1", f"docker://{stack.host}/library/anon:v1", "--dest-creds", CREDS)
    back = tmp_path / "back"
    _copy(f"docker://{stack.host}/library/anon:v1", f"oci:{back}:v1")  # no credentials
    assert read_layout_blob(back, sha256(image.layers[0])) == image.layers[0]
    refused = run("skopeo", "copy", "--dest-tls-verify=false", f"oci:{source}:v1",
                  f"docker://{stack.host}/library/anon:v2", check=False)
    assert refused.returncode != 0


def test_conversion_to_docker_v2s2_inspect_list_tags_delete(stack: Stack, tmp_path: Path) -> None:
    image = make_image("convert")
    source = write_layout(tmp_path / "src", {"v1": image})
    target = f"docker://{stack.host}/library/converted"
    _copy(f"oci:{source}:v1", f"{target}:v1", "--dest-creds", CREDS, "--format", "v2s2")
    _copy(f"oci:{source}:v1", f"{target}:v2", "--dest-creds", CREDS, "--format", "v2s2")
    raw = run("skopeo", "inspect", "--raw", "--tls-verify=false", "--creds", CREDS, f"{target}:v1").stdout
    assert json.loads(raw)["mediaType"] == "application/vnd.docker.distribution.manifest.v2+json"
    inspected = json.loads(run("skopeo", "inspect", "--tls-verify=false", "--creds", CREDS, f"{target}:v1").stdout)
    assert inspected["Digest"] == sha256(raw.encode())
    assert inspected["Layers"] == [sha256(image.layers[0])]
    tags = json.loads(run("skopeo", "list-tags", "--tls-verify=false", "--creds", CREDS, target).stdout)
    assert sorted(tags["Tags"]) == ["v1", "v2"]
    run("skopeo", "delete", "--tls-verify=false", "--creds", CREDS, f"{target}@{sha256(raw.encode())}")
    gone = run("skopeo", "inspect", "--tls-verify=false", "--creds", CREDS, f"{target}:v1", check=False)
    assert gone.returncode != 0 and "manifest unknown" in gone.stderr
    tags = json.loads(run("skopeo", "list-tags", "--tls-verify=false", "--creds", CREDS, target).stdout)
    assert tags["Tags"] == []


def test_push_into_missing_project_fails_clearly(stack: Stack, tmp_path: Path) -> None:
    source = write_layout(tmp_path / "src", {"v1": make_image("noproject")})
    result = run("skopeo", "copy", "--dest-tls-verify=false", "--dest-creds", CREDS, f"oci:{source}:v1",
                 f"docker://{stack.host}/noproject/app:v1", check=False)
    assert result.returncode != 0
    assert "project noproject not found" in result.stderr
