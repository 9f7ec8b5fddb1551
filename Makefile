# Lixiao: `make demo` runs the whole service with demo data; `make test` runs every test suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
EMULATOR_PORT ?= 8001
# The suite runs twice: on SQLite with the seed's four items, on MariaDB with a fifth (college) turned on.
FIVE_ITEMS := library,archives,apartment,finance,college
MYSQL_TEST_ENV := LIXIAO_TEST_DATABASE=mysql LIXIAO_TEST_REDIS=redis://127.0.0.1:6379/15 LIXIAO_ITEMS=$(FIVE_ITEMS)

SCREENSHOTS_DIR := docs/screenshots
.PHONY: screenshots demo test lint lock test-sqlite test-mysql test-miniprogram openapi services bench clean

# Installs come from the lock files (every transitive package pinned, with hashes), never from the loose
# requirements*.txt: `make lock` below regenerates them. The demo's lock is production's plus the in-process
# Redis stand-in (requirements-demo.txt); production installs requirements.lock (docs/OPERATIONS.md).
PIP_INSTALL := $(VENV)/bin/pip install -q --disable-pip-version-check --require-hashes

$(VENV)/.runtime: requirements-demo.lock
	$(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) -r requirements-demo.lock
	touch $@

# axe-core for the accessibility checks of the browser tests (tests/browser), pinned by its package-lock.json.
BROWSER_NODE := tests/browser/node_modules/.installed

$(BROWSER_NODE): tests/browser/package.json tests/browser/package-lock.json
	cd tests/browser && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The mini-program's jest, ESLint and miniprogram-simulate, pinned by its package-lock.json. The screenshot test
# (tests/browser/test_screenshots.py) renders the mini-program's pages with them, so the Python suites need them too.
MINIPROGRAM_NODE := miniprogram/node_modules/.installed

$(MINIPROGRAM_NODE): miniprogram/package.json miniprogram/package-lock.json
	cd miniprogram && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.lock
	$(PIP_INSTALL) -r requirements-dev.lock
	touch $@

# After adding or changing a pin in requirements*.txt: resolve the whole tree again. Each layer is constrained
# by the one below it, so production, the demo and the tests run the same versions; the versions already in a
# lock are kept unless a pin forces a change (the same inputs give the same files). Only the package index is
# read (UV_DEFAULT_INDEX=<mirror>/simple for a mirror; UV_OFFLINE=1 resolves from uv's cache alone).
# Python 3.11 on Linux, as deployed; the hashes cover every platform's wheels of each version.
UV_COMPILE := $(VENV)/bin/uv pip compile --quiet --generate-hashes --python-version 3.11 --python-platform linux \
	--custom-compile-command "make lock"

lock: $(VENV)/.dev
	$(UV_COMPILE) requirements.txt -o requirements.lock
	$(UV_COMPILE) requirements-demo.txt -c requirements.lock -o requirements-demo.lock
	$(UV_COMPILE) requirements-dev.txt -c requirements-demo.lock -o requirements-dev.lock

demo: $(VENV)/.runtime
	$(PY) scripts/demo.py --port $(PORT) --emulator-port $(EMULATOR_PORT)

test: $(VENV)/.dev lint test-sqlite test-mysql test-miniprogram

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/bandit -q -c pyproject.toml -r server
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

test-sqlite: $(VENV)/.dev $(BROWSER_NODE) $(MINIPROGRAM_NODE)
	$(VENV)/bin/pytest -q -p no:cacheprovider

test-mysql: $(VENV)/.dev services $(BROWSER_NODE) $(MINIPROGRAM_NODE)
	$(MYSQL_TEST_ENV) $(VENV)/bin/pytest -q -p no:cacheprovider

services:
	bash scripts/ci/services.sh

# The graduation-week benchmarks (BENCHMARKS.md): a few minutes on MariaDB + Redis + gunicorn; not part of `test`.
bench: $(VENV)/.dev services
	$(PY) -m scripts.bench

openapi: $(VENV)/.runtime
	@mkdir -p build
	$(PY) -m server.cli openapi > build/openapi.json

test-miniprogram: openapi $(MINIPROGRAM_NODE)
	cd miniprogram && npm run lint && LIXIAO_OPENAPI_JSON=$(CURDIR)/build/openapi.json npm test

clean:
	rm -rf var build test-artifacts

# Pictures of every web page in every state at 390x844 and 1280x800, and of every mini-program page in the same states
# at 375 px wide (mp-*.png: jest renders each page with its WXML and WXSS, Chromium takes the picture), into
# docs/screenshots/ (README "Screenshots"). The same run fails on horizontal overflow, and on the web pages on axe
# violations (tests/browser/test_screenshots.py); `make test` runs it too, with the pictures under test-artifacts/.
screenshots: $(VENV)/.dev $(BROWSER_NODE) $(MINIPROGRAM_NODE)
	LIXIAO_SCREENSHOTS=$(CURDIR)/$(SCREENSHOTS_DIR) $(VENV)/bin/pytest -q -p no:cacheprovider tests/browser/test_screenshots.py
