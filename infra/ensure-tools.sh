#!/usr/bin/env bash
# Installs the system packages a step needs when they are missing (Debian/Ubuntu, apt).
#   python: venv support for the project's .venv
#   test:   the real clients the end-to-end tests and benchmarks drive (skopeo, docker-registry)
set -euo pipefail

missing=()
case "${1:-}" in
  python)
    "${PYTHON:-python3}" -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv)
    ;;
  test)
    command -v skopeo >/dev/null || missing+=(skopeo)
    command -v docker-registry >/dev/null || missing+=(docker-registry)
    ;;
  *) echo "usage: $0 python|test" >&2; exit 2 ;;
esac
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The Debian package starts a registry service on :5000; benchmarks start their own.
if [[ " ${missing[*]} " == *" docker-registry "* ]] && command -v systemctl >/dev/null; then
  $sudo systemctl disable --now docker-registry >/dev/null 2>&1 || true
fi
