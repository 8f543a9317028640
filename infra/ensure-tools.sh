#!/usr/bin/env bash
# Installs the system packages a step needs when they are missing (Debian/Ubuntu, apt).
#   python: venv support for the project's .venv
#   run:    what `make run` starts besides Python (redis-server, the cache)
#   test:   that, and the real clients the end-to-end tests and benchmarks drive (skopeo, docker-registry,
#           and, for the portal's browser tests, Debian's chromium with its driver and Firefox ESR, which
#           the tests drive over WebDriver BiDi without a driver)
set -euo pipefail

missing=()
case "${1:-}" in
  python)
    "${PYTHON:-python3}" -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv)
    ;;
  run)
    command -v redis-server >/dev/null || missing+=(redis-server)
    ;;
  test)
    command -v redis-server >/dev/null || missing+=(redis-server)
    command -v skopeo >/dev/null || missing+=(skopeo)
    command -v docker-registry >/dev/null || missing+=(docker-registry)
    command -v chromium >/dev/null || missing+=(chromium)
    command -v chromedriver >/dev/null || missing+=(chromium-driver)
    command -v firefox-esr >/dev/null || missing+=(firefox-esr)
    ;;
  *) echo "usage: $0 python|run|test" >&2; exit 2 ;;
esac
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The Debian packages start a registry service on :5000 and a Redis on :6379; we start our own.
for service in docker-registry redis-server; do
  if [[ " ${missing[*]} " == *" $service "* ]] && command -v systemctl >/dev/null; then
    $sudo systemctl disable --now "$service" >/dev/null 2>&1 || true
  fi
done
