"""With API Gateway/Lambda limits enforced: what fits through and what does not (docs/limits.md)."""

from __future__ import annotations

import os
from pathlib import Path

from tests.e2e.conftest import Stack, oras_client, run
from tests.support.images import make_image, sha256, write_layout

MiB = 1024 * 1024


def test_a_50_mb_layer_pushes_in_chunks_under_the_limits(limited_stack: Stack, tmp_path: Path) -> None:
    layer = tmp_path / "layer.bin"
    layer.write_bytes(os.urandom(50 * MiB))
    client = oras_client(limited_stack)
    client.push(files=[str(layer)], target=f"{limited_stack.host}/library/big:v1", do_chunked=True,
                chunk_size=4 * MiB, disable_path_validation=True)
    pulled = client.pull(target=f"{limited_stack.host}/library/big:v1", outdir=str(tmp_path / "out"))
    assert sha256(Path(pulled[0]).read_bytes()) == sha256(layer.read_bytes())


def test_a_stock_single_request_layer_push_over_6_mb_is_refused(limited_stack: Stack, tmp_path: Path) -> None:
    source = write_layout(tmp_path / "src", {"v1": make_image("too-big", 7 * MiB)})
    result = run("skopeo", "copy", "--dest-tls-verify=false", "--dest-creds", "admin:Harbor12345",
                 f"oci:{source}:v1", f"docker://{limited_stack.host}/library/toobig:v1", check=False)
    assert result.returncode != 0
    assert "413" in result.stderr or "Request Too Long" in result.stderr
    small = write_layout(tmp_path / "small", {"v1": make_image("fits", 3 * MiB)})
    run("skopeo", "copy", "--dest-tls-verify=false", "--dest-creds", "admin:Harbor12345",
        f"oci:{small}:v1", f"docker://{limited_stack.host}/library/fits:v1")
