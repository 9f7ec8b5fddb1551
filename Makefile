# Lixiao: `make demo` runs the whole service with demo data; `make test` runs every test suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
EMULATOR_PORT ?= 8001
MYSQL_TEST_ENV := LIXIAO_TEST_DATABASE=mysql LIXIAO_TEST_REDIS=redis://127.0.0.1:6379/15

.PHONY: demo test lint test-sqlite test-mysql test-miniprogram openapi services bench clean

$(VENV)/.runtime: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -r requirements.txt
	touch $@

# axe-core for the accessibility checks of the browser tests (tests/browser), pinned by its package-lock.json.
BROWSER_NODE := tests/browser/node_modules/.installed

$(BROWSER_NODE): tests/browser/package.json tests/browser/package-lock.json
	cd tests/browser && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(VENV)/bin/pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

demo: $(VENV)/.runtime
	$(PY) scripts/demo.py --port $(PORT) --emulator-port $(EMULATOR_PORT)

test: $(VENV)/.dev lint test-sqlite test-mysql test-miniprogram

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/bandit -q -c pyproject.toml -r server

test-sqlite: $(VENV)/.dev $(BROWSER_NODE)
	$(VENV)/bin/pytest -q -p no:cacheprovider

test-mysql: $(VENV)/.dev services $(BROWSER_NODE)
	$(MYSQL_TEST_ENV) $(VENV)/bin/pytest -q -p no:cacheprovider

services:
	bash scripts/ci/services.sh

# The graduation-week benchmarks (BENCHMARKS.md): a few minutes on MariaDB + Redis + gunicorn; not part of `test`.
bench: $(VENV)/.dev services
	$(PY) -m scripts.bench

openapi: $(VENV)/.runtime
	@mkdir -p build
	$(PY) -m server.cli openapi > build/openapi.json

test-miniprogram: openapi
	@if [[ -f miniprogram/package.json ]]; then \
	  cd miniprogram && npm ci --no-audit --no-fund --loglevel=error && npm run lint && \
	  LIXIAO_OPENAPI_JSON=$(CURDIR)/build/openapi.json npm test; \
	fi

clean:
	rm -rf var build test-artifacts
