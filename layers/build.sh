#!/usr/bin/env bash
# Builds the Lambda layer that functions/ run on: the pinned runtime dependencies plus chalicelib,
# under python/ as Lambda expects. (The API Lambda is packaged by Chalice itself.)
#   layers/build.sh <output dir>
set -euo pipefail
out="${1:?usage: layers/build.sh <output dir>}"
root="$(cd "$(dirname "$0")/.." && pwd)"
python="${PYTHON:-$root/.venv/bin/python}"
# The Lambda runtime's Python version, as infra/template.yaml's Globals name it (python3.12 -> 3.12).
runtime="$(sed -n 's/^ *Runtime: python\([0-9.]*\).*/\1/p' "$root/infra/template.yaml" | head -n 1)"

rm -rf "$out"
mkdir -p "$out/python"
"$python" -m pip install -q --no-compile --target "$out/python" \
  --platform manylinux2014_x86_64 --implementation cp --python-version "$runtime" --only-binary=:all: \
  -r "$root/requirements.txt"
cp -r "$root/chalicelib" "$out/python/chalicelib"
find "$out" -name '__pycache__' -prune -exec rm -rf {} +
echo "layer in $out"
