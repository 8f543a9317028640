# Two commands on a fresh Debian/Ubuntu machine with Python >= 3.11: `make run`, `make test`.
SHELL := /bin/bash
# The first interpreter that runs and is >= 3.11 (pyenv shims may name versions that are not active).
PYTHON ?= $(shell for p in python3 python3.13 python3.12 python3.11; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && command -v $$p && break; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt requirements-scanner.txt | sha256sum | cut -c1-12)

.PHONY: venv run test unit e2e lint bench bench-pull bench-scan bench-export bench-gc bench-replication bench-portal \
	bench-crash bench-idle package system-tools

$(STAMP): requirements.txt requirements-dev.txt requirements-scanner.txt
	@PYTHON=$(PYTHON) bash infra/ensure-tools.sh python
	@test -n "$(PYTHON)" || { echo "Python >= 3.11 is required" >&2; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements-dev.txt
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

venv: $(STAMP)

# The whole registry on http://127.0.0.1:$(PORT) (default 8000), AWS emulated in-process.
run: venv
	@bash infra/ensure-tools.sh run
	$(BIN)/python -m infra.launcher

system-tools:
	@bash infra/ensure-tools.sh test

# ruff, the layering contracts of pyproject.toml (handlers -> services -> stores), and no DynamoDB key
# or expression built outside chalicelib/store/.
lint: venv
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	@if grep -rnE --include=*.py '"(PK|SK|GSI1PK|GSI1SK)"[[:space:]]*:|(KeyCondition|Update|Condition|Projection)Expression' \
	  chalicelib functions app.py | grep -v '^chalicelib/store/'; then \
	  echo "DynamoDB keys or expressions outside chalicelib/store/ (above)" >&2; exit 1; fi

unit: venv
	$(BIN)/pytest tests/unit

e2e: venv system-tools
	$(BIN)/pytest tests/e2e

test: venv system-tools lint
	$(BIN)/pytest tests

bench: venv system-tools
	$(BIN)/python -m tests.bench

# Concurrent pulls at 1, 8, 32 connections: ours with the cache warm, without it, and distribution;
# AWS calls and Redis round trips per request; USD per million pulls.
bench-pull: venv system-tools
	$(BIN)/python -m tests.bench.pull

# Push (auto-scan) to finished report for the fixture images and a 200 MB one, vs trivy alone.
bench-scan: venv system-tools
	$(BIN)/python -m tests.bench.scan

# A CVE export of 10,000 artifacts x 50 vulnerabilities: rows/s, AWS calls, CSV size, task memory.
bench-export: venv
	$(BIN)/python -m tests.bench.export

# Garbage collection of 100,000 unreferenced among 10,000 referenced blobs (deletes/min, AWS calls, task
# memory, nothing referenced lost) and an audit purge of 1,000,000 records (records/min).
bench-gc: venv
	$(BIN)/python -m tests.bench.gc

bench-replication: venv system-tools
	$(BIN)/python -m tests.bench.replication

# The portal in headless chromium: files and bytes on a first and a later visit; per screen, API calls,
# bytes and time until drawn (p50, p90); the project summary's calls as its repositories grow.
bench-portal: venv system-tools
	$(BIN)/python -m tests.bench.portal

# kill -9 of `make run` at random moments under pushes, deletes and a GC, KILLS times (default 100): kills,
# pushes checked, bytes verified, the longest save, anything lost (zero).
bench-crash: venv system-tools
	$(BIN)/python -m tests.bench.crash

# An idle `make run`: CPU of all its processes over 30 s (share of one core), the first job's pickup, and a
# worker's memory after a 300 MB PATCH.
bench-idle: venv system-tools
	$(BIN)/python -m tests.bench.idle

# AWS deployment artefacts in build/: chalice's SAM template merged with infra/template.yaml,
# the functions/ code and their dependency layer.
package: venv
	rm -rf build && AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-us-east-1} \
	  $(BIN)/chalice package --merge-template infra/template.yaml build/
	$(BIN)/cfn-lint build/sam.yaml
	mkdir -p build/functions-package && cp -r functions build/functions-package/
	cp -r infra/statemachines build/
	bash layers/build.sh build/layers/dependencies
	bash layers/build-trivy.sh build/layers/trivy
